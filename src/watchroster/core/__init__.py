"""Vocabulary every layer may use: settings, clock, errors, fields, times, phones, languages,
i18n, hashing, logs. Imports nothing else of watchroster."""
