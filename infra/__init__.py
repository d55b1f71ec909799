"""Adapters on AWS (`infra.aws`), the local engine (`infra.local`), the command line."""
