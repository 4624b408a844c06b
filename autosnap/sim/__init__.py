"""X-ray physics: instruments, cone-beam projection, anatomy backgrounds. Knows nothing of
neural networks or search; imports only the shared modules."""
