"""Small kernel shared by every context: metadata, errors, base aggregate, documents."""
