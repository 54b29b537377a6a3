"""Task uploads (tugas dan tagihan)."""
