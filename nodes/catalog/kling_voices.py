"""Kling's preset voices and the languages each speaks, for its own text to speech (POST /v1/audio/tts).

Kling's TTS refuses a voice_id with a voice_language it does not speak ("Voice id not found", 1201, as
CometAPI's page on Kling TTS reports), so the node checks the pair before anything is sent. The table is
ComfyUI 0.33.0's comfy_api_nodes/nodes_kling.py VOICES_CONFIG (voice name -> (voice_id, language)), grouped by
id: a third party's transcription of Kling's voice list, as Kling's own list is in no corpus we could read.
"""
from __future__ import annotations

_EN = ("girlfriend_4_speech02 AOT oversea_male1 chat_0407_5-1 uk_boy1 PeppaPig_platform ai_huangzhong_712 "
       "calm_story1 uk_man2 reader_en_m-v1 commercial_lady_en_f-v1")
_ZH = ("tiyuxi_xuedi tiexin_nanyou girlfriend_1_speech02 girlfriend_2_speech02 zhuxi_speech02 uk_oldman3 "
       "dongbeilaotie_speech02 chongqingxiaohuo_speech02 chuanmeizi_speech02 chaoshandashu_speech02 "
       "ai_taiwan_man2_speech02 xianzhanggui_speech02 tianjinjiejie_speech02 diyinnansang_DB_CN_M_04-v2 "
       "yizhipiannan-v1 tianmeixuemei-v1 daopianyansang-v1 mengwa-v1")
_BOTH = ("genshin_vindi2 zhinen_xuesheng ai_shatang genshin_klee2 genshin_kirara ai_kaiya ai_chenjiahao_712 "
         "chat1_female_new-3 cartoon-boy-07 cartoon-girl-01 ai_huangyaoshi_712 ai_laoguowang_712 chengshu_jiejie "
         "you_pingjing laopopo_speech02 heainainai_speech02")

LANGUAGES = ("en", "zh")
# voice_id -> the languages it speaks
TTS_VOICES: dict[str, tuple[str, ...]] = {
    **{v: ("en", "zh") for v in _BOTH.split()}, **{v: ("en",) for v in _EN.split()},
    **{v: ("zh",) for v in _ZH.split()}}
COMFY_SOURCE = "ComfyUI 0.33.0 comfy_api_nodes/nodes_kling.py VOICES_CONFIG (third party)"


def speaks(voice_id: str, language: str) -> bool:
    return language in TTS_VOICES.get(voice_id, ())
