"""Long enums of the Kling catalog, copied from fal's schemas (seed 003 VideoEffectsRequest.effect_scene and
LipsyncT2VRequest.voice_id; identical in @fal-ai/client 1.10.1's types)."""

EFFECT_SCENES = (
    "hug", "kiss", "heart_gesture", "squish", "expansion", "fuzzyfuzzy", "bloombloom", "dizzydizzy",
    "jelly_press", "jelly_slice", "jelly_squish", "jelly_jiggle", "pixelpixel", "yearbook", "instant_film",
    "anime_figure", "rocketrocket", "fly_fly", "disappear", "lightning_power", "bullet_time",
    "bullet_time_360", "media_interview", "day_to_night", "let's_ride", "jumpdrop", "swish_swish",
    "running_man", "jazz_jazz", "swing_swing", "skateskate", "building_sweater", "pure_white_wings",
    "black_wings", "golden_wing", "pink_pink_wings", "rampage_ape", "a_list_look", "countdown_teleport",
    "firework_2026", "instant_christmas", "birthday_star", "firework", "celebration", "tiger_hug_pro",
    "pet_lion_pro", "guardian_spirit", "squeeze_scream", "inner_voice", "memory_alive", "guess_what",
    "eagle_snatch", "hug_from_past", "instant_kid", "dollar_rain", "cry_cry", "building_collapse", "mushroom",
    "jesus_hug", "shark_alert", "lie_flat", "polar_bear_hug", "brown_bear_hug", "office_escape_plow",
    "watermelon_bomb", "boss_coming", "wig_out", "car_explosion", "tiger_hug", "siblings",
    "construction_worker", "snatched", "felt_felt", "plushcut", "drunk_dance", "drunk_dance_pet",
    "daoma_dance", "bouncy_dance", "smooth_sailing_dance", "new_year_greeting", "lion_dance", "prosperity",
    "great_success", "golden_horse_fortune", "red_packet_box", "lucky_horse_year", "lucky_red_packet",
    "lucky_money_come", "lion_dance_pet", "dumpling_making_pet", "fish_making_pet", "pet_red_packet",
    "lantern_glow", "expression_challenge", "overdrive", "heart_gesture_dance", "poping", "martial_arts",
    "running", "nezha", "motorcycle_dance", "subject_3_dance", "ghost_step_dance", "phantom_jewel",
    "zoom_out", "cheers_2026", "kiss_pro", "fight_pro", "hug_pro", "heart_gesture_pro", "dollar_rain_pro",
    "pet_bee_pro", "santa_random_surprise", "magic_match_tree", "happy_birthday", "thumbs_up_pro",
    "surprise_bouquet", "bouquet_drop", "3d_cartoon_1_pro", "glamour_photo_shoot", "box_of_joy",
    "first_toast_of_the_year", "my_santa_pic", "santa_gift", "steampunk_christmas", "snowglobe",
    "christmas_photo_shoot", "ornament_crash", "santa_express", "particle_santa_surround",
    "coronation_of_frost", "spark_in_the_snow", "scarlet_and_snow", "cozy_toon_wrap", "bullet_time_lite",
    "magic_cloak", "balloon_parade", "jumping_ginger_joy", "c4d_cartoon_pro", "venomous_spider",
    "throne_of_king", "luminous_elf", "woodland_elf", "japanese_anime_1", "american_comics", "snowboarding",
    "witch_transform", "vampire_transform", "pumpkin_head_transform", "demon_transform", "mummy_transform",
    "zombie_transform", "cute_pumpkin_transform", "cute_ghost_transform", "knock_knock_halloween",
    "halloween_escape", "baseball", "trampoline", "trampoline_night", "pucker_up", "feed_mooncake", "flyer",
    "dishwasher", "pet_chinese_opera", "magic_fireball", "gallery_ring", "pet_moto_rider", "muscle_pet",
    "pet_delivery", "mythic_style", "steampunk", "3d_cartoon_2", "pet_chef", "santa_gifts", "santa_hug",
    "girlfriend", "boyfriend", "heart_gesture_1", "pet_wizard", "smoke_smoke", "gun_shot", "double_gun",
    "pet_warrior", "long_hair", "pet_dance", "wool_curly", "pet_bee", "marry_me", "piggy_morph", "ski_ski",
    "magic_broom", "splashsplash", "surfsurf", "fairy_wing", "angel_wing", "dark_wing", "emoji",
)

# Effects that animate two people: they take exactly two input images.
TWO_PERSON_EFFECTS = ("hug", "kiss", "heart_gesture")

LIPSYNC_VOICES = (
    "genshin_vindi2", "zhinen_xuesheng", "AOT", "ai_shatang", "genshin_klee2", "genshin_kirara", "ai_kaiya",
    "oversea_male1", "ai_chenjiahao_712", "girlfriend_4_speech02", "chat1_female_new-3", "chat_0407_5-1",
    "cartoon-boy-07", "uk_boy1", "cartoon-girl-01", "PeppaPig_platform", "ai_huangzhong_712",
    "ai_huangyaoshi_712", "ai_laoguowang_712", "chengshu_jiejie", "you_pingjing", "calm_story1", "uk_man2",
    "laopopo_speech02", "heainainai_speech02", "reader_en_m-v1", "commercial_lady_en_f-v1", "tiyuxi_xuedi",
    "tiexin_nanyou", "girlfriend_1_speech02", "girlfriend_2_speech02", "zhuxi_speech02", "uk_oldman3",
    "dongbeilaotie_speech02", "chongqingxiaohuo_speech02", "chuanmeizi_speech02", "chaoshandashu_speech02",
    "ai_taiwan_man2_speech02", "xianzhanggui_speech02", "tianjinjiejie_speech02",
    "diyinnansang_DB_CN_M_04-v2", "yizhipiannan-v1", "guanxiaofang-v2", "tianmeixuemei-v1",
    "daopianyansang-v1", "mengwa-v1",
)
