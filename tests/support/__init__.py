"""Test helpers shared by unit and integration tests (and the simulator)."""
