"""Rule sets in the database: the published library, drafts and their lifecycle, import and export."""
