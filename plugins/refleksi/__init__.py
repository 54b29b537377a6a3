"""Refleksi: the session reflection journal (and the Penutup's conclusion)."""
