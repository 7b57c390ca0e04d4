# Copy to instance/config.py and adjust. Environment variables EBO_<NAME> override these.
# ENV_NAME = "production"                 # then EBO_SECRET_KEY must be set in the environment
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://ebo@localhost/ebo"
# REDIS_URL = "redis://127.0.0.1:6379/0"
# SESSION_IDLE_MINUTES = 30
# LOGIN_RATE_LIMIT = "10 per minute"
# MAIL_SERVER = "smtp.kommun.se"
# MAIL_FROM = "ebo@kommun.se"
