from intake.cli import app

app()
