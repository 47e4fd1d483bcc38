"""Importing other programs' files: CSV exports of other CRMs and spreadsheets."""

from store.imports.columns import IMPORT_TABLES, importable_fields, normalise_header
from store.imports.csv_import import ImportOptions, ImportTable, import_csv
from store.imports.report import ImportReport

__all__ = ["IMPORT_TABLES", "ImportOptions", "ImportReport", "ImportTable", "import_csv", "importable_fields",
           "normalise_header"]
