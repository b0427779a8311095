"""The audience: subscriber model, store, import/export, tokens and their CLI group.

This package never imports `digest`; it owns the SQLAlchemy MetaData both share.
"""
