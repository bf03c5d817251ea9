"""Models arrive with the projects issue."""
