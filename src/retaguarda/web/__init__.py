"""Web shell: app factory helpers, authentication middleware, guard, errors, templates."""
