"""The synthetic demo data: the generator and the builder of the demo warehouse (through the ordinary loader)."""
