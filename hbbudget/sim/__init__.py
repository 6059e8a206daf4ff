"""Simulators of external systems on 127.0.0.1 (demo mode and tests): never mocks of our own code."""
