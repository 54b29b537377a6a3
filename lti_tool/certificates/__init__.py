"""Certificates (STTPP): numbers, the PDF, issuing and revoking, public verification."""
