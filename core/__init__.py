"""Code both apps use and neither owns: the client address, Markdown rendering."""
