invert photo.jpg; apply 'curly hair' via global alpha=4 beta=0.15; then mapper 'smile'
