"""Spiders: one site-agnostic spider per profile kind."""
