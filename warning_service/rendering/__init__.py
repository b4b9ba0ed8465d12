"""Bilingual rendering: templates, Babel formatting, Tibetan text, channel budgets."""
