"""Helpers for the stoxgw integration tests: real Prosody, real sipp, the real stoxgw binary.

Every helper owns the processes it starts and stops them by PID (peers.md G8); tests register
them with ``addCleanup`` so that a failing assertion still stops everything.
"""
