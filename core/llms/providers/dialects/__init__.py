"""Wire dialects: how each wire is spoken (payload building, response parsing, the stream parser,
finish-reason mapping), shared by every provider that speaks it. A provider profile names the
dialect's model class; see :class:`~core.llms.interfaces.provider.ProviderProfile`."""
