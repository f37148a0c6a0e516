"""IFA network training package."""
