"""Reports for people: the self-contained HTML page of what is coming."""
