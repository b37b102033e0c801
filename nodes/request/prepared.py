"""A checked request ready to send: the variant, the body in fal's field names, its cost, the provider."""
from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Variant
from .pricing import Cost


@dataclass(frozen=True)
class PreparedRequest:
    variant: Variant
    body: dict              # fal's field names; the provider's module maps them onto its wire format
    cost: Cost
    provider: str = "fal"
    model: str = ""         # the provider's model id or endpoint

    def __post_init__(self):
        if not self.model:
            object.__setattr__(self, "model", self.variant.endpoint)
