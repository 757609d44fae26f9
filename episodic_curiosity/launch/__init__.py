"""Running methods: which stages a method chains, and running them locally."""
