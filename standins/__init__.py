"""Local stand-ins for the providers (Replicate, the Hugging Face Hub and inference, SendGrid).

Each speaks the provider's real HTTP protocol on loopback, so the real client libraries talk to
them unchanged. Tests, bench/, fuzz/ and contract/ import them; the app never does.
"""
