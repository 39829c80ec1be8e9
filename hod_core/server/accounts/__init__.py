"""Agent and operator accounts (R1-R5): passwords, invitations, sessions, throttles."""
