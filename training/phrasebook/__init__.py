"""Phrase material for ``make_examples``: invented, multilingual helpdesk wording (not read at runtime)."""
