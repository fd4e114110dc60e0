"""The canvas: a QGraphicsScene that mirrors the document, its items, the view
(zoom, pan, grid, minimap) and the gestures that turn into commands."""
