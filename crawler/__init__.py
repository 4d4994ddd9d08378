"""Crawl stage: a Scrapy project driven by site profiles; writes sites, runs, listings, observations."""
