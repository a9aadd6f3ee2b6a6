"""Chat assistant for probation practitioners (Offender Engagement Programme)."""
