"""The providers: who they are (registry.py, import-free), what each module must provide (contract.py), which
one serves a request (select.py), one module per provider (fal, kling, aimlapi, vercel) speaking its protocol,
and what they share (poll.py, credentials.py, wire_format.py, body_limits.py).
"""
