"""watchroster: volunteer rosters for community watch groups."""
