"""Graphics items of the canvas. They hold ids and display data only and never
write to the document; gestures (``editor.canvas.interactions``) do that."""
