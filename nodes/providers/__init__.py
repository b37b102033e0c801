"""One module per provider; each maps catalog requests onto that provider's wire protocol."""
