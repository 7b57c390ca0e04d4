"""Vetting of hosts by coordinators: the queue, home visits, approval or rejection."""
