"""The image library: safe uploads (uploads.py), renditions made by the worker (renditions.py,
tasks.py, services.py), social cards (cards.py), what templates show (pictures.py), Markdown
body images (markdown.py), media serving (views.py) and the admin (admin.py, forms.py).
The model is `articles.models.Image`."""
