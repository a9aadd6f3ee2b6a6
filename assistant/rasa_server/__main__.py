"""``python -m assistant.rasa_server``: Rasa's CLI with our changes installed."""
from assistant.rasa_server import main

main()
