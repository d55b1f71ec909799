"""Adapters on AWS (`infra.aws`), the local engine and endpoints (`infra.local`), the command line."""
