"""The clinic's domain: patients, episodes, visits and derived progress. Imports no Textual.

Import each name from the module that defines it (`from kinesio_tui.domain.outcomes import
progress`): importing the package loads nothing else, so the patient list, the first
screen, loads only `roster` and `search`, not the records and write path behind them.
"""
