"""Layout-aware extraction of page text from page formats (PDF)."""
