"""The embedded face-mesh animator (`--backend mesh`): no weights, real time on a CPU."""
