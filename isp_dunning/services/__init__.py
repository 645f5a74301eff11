"""Odoo-aware steps of a run and of delivery, called by the models."""
