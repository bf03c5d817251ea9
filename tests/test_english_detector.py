"""The detector the Spanish journey uses to find English left on its pages (tests/english.py)."""

import pytest

from tests.english import EnglishDetector, Vocabulary, app_vocabulary, chunks, english_in

# Sentences as the app shows them: the journey's pages, emails and live updates.
ENGLISH = [
    "Create your account",
    "Check your inbox",
    "We sent a verification link to your address. Open it to activate your account, then log in.",
    "Already have an account?",
    "Your email is verified. You can log in now.",
    "A project is one person or one product.",
    "Not ready to train yet",
    "Training opens when the checklist has no ✕ left.",
    "this page updates by itself every few seconds",
    "Demo mode: this training is simulated. No GPU is used and the LoRA file is a placeholder.",
    "Your model is trained.",
    "Describe the picture. Your model's trigger word is added if it is missing.",
    "Leave empty for a random seed.",
    "Demo mode: these images are simulated, not made by a model.",
    "Use these settings again",
    "Move this image to the trash? You can restore it from Trash for 30 days.",
    "The two passwords do not match.",
    "15 of 15 photos uploaded; processing them now.",
    "Ready to train",
    "Download the LoRA (simulated)",
    "Your prompt was not translated: demo mode has no translation service.",
    "How closely to follow the prompt (0–10).",
]

SPANISH = [
    "Crea tu cuenta",
    "Revisa tu bandeja de entrada",
    "Te hemos enviado un enlace de verificación. Ábrelo para activar tu cuenta y después inicia sesión.",
    "¿Ya tienes una cuenta? Inicia sesión.",
    "Tu correo está verificado. Ya puedes iniciar sesión.",
    "Un proyecto es una persona o un producto. Subirás 15 fotos, las describirás y entrenarás tu propio modelo.",
    "Todavía no está listo para entrenar",
    "El entrenamiento se abre cuando la lista no tiene ninguna ✕.",
    "esta página se actualiza sola cada pocos segundos",
    "Modo demo: este entrenamiento es simulado. No se usa ninguna GPU y el archivo LoRA es provisional.",
    "Tu modelo está entrenado.",
    "Describe la imagen. Si falta la palabra clave de tu modelo, la añadimos.",
    "Déjalo vacío para una semilla aleatoria.",
    "Modo demo: estas imágenes son simuladas, no las ha hecho un modelo.",
    "Usar estos ajustes otra vez",
    "¿Mover esta imagen a la papelera? Puedes restaurarla desde la papelera durante 30 días.",
    "Las dos contraseñas no coinciden.",
    "15 de 15 fotos subidas; las estamos procesando.",
    "Listo para entrenar",
    "Descargar el LoRA (simulado)",
    "Tu prompt no se ha traducido: el modo demo no tiene servicio de traducción.",
    "Qué tan fiel al prompt (0–10).",
    "Generar imágenes",
    "Nuevo proyecto",
    "Cerrar sesión",
    "Tus proyectos",
    "Siguiente paso: elige un ajuste en «Entrena tu modelo» y entrena.",
    "Generación n.º 3 · 2 imágenes · 1:1 · WebP",
    "Hugging Face (privado)",
    "Coste: 0,00 € (simulado, sin cargo)",
]

GERMAN = [
    "Erstelle dein Konto",
    "Schau in dein Postfach",
    "Wir haben dir einen Bestätigungslink geschickt. Öffne ihn, um dein Konto zu aktivieren, und melde dich dann an.",
    "Noch nicht bereit für das Training",
    "Diese Seite aktualisiert sich alle paar Sekunden von selbst.",
    "Demo-Modus: Dieses Training ist simuliert. Es wird keine GPU genutzt und die LoRA-Datei ist ein Platzhalter.",
    "Dein Modell ist trainiert.",
    "Beschreibe das Bild. Fehlt das Triggerwort deines Modells, fügen wir es hinzu.",
    "Leer lassen für einen zufälligen Seed.",
    "Diese Einstellungen wieder verwenden",
    "Dieses Bild in den Papierkorb verschieben? Du kannst es 30 Tage lang wiederherstellen.",
    "Die beiden Passwörter stimmen nicht überein.",
    "15 von 15 Fotos hochgeladen; sie werden jetzt verarbeitet.",
    "Bereit zum Training",
    "Das LoRA herunterladen (simuliert)",
    "Dein Prompt wurde nicht übersetzt: Im Demo-Modus gibt es keinen Übersetzungsdienst.",
    "Bilder generieren",
    "Deine Projekte",
    "Neues Projekt",
    "Abmelden",
    "Einstellungen",
    "Mediathek",
]

FRENCH = [
    "Créer un compte",
    "Consultez votre boîte de réception",
    "Nous vous avons envoyé un lien de vérification. Ouvrez-le pour activer votre compte, puis connectez-vous.",
    "Pas encore prêt pour l'entraînement",
    "Cette page se met à jour toute seule toutes les quelques secondes.",
    "Mode démo : cet entraînement est simulé. Aucun GPU n'est utilisé et le fichier LoRA est factice.",
    "Votre modèle est entraîné.",
    "Décrivez l'image. Le mot déclencheur de votre modèle est ajouté s'il manque.",
    "Laissez vide pour une graine aléatoire.",
    "Réutiliser ces réglages",
    "Mettre cette image à la corbeille ? Vous pourrez la restaurer pendant 30 jours.",
    "Les deux mots de passe ne correspondent pas.",
    "15 photos importées sur 15 ; traitement en cours.",
    "Prêt pour l'entraînement",
    "Télécharger le LoRA (simulé)",
    "Votre prompt n'a pas été traduit : le mode démo n'a pas de service de traduction.",
    "Générer des images",
    "Vos projets",
    "Nouveau projet",
    "Se déconnecter",
    "Paramètres",
    "Photothèque",
]


@pytest.fixture(scope="module")
def detector():
    """The journey's detector, knowing the app's catalogs and Django's."""
    return EnglishDetector(vocabulary=app_vocabulary("es"))


@pytest.mark.parametrize("sentence", ENGLISH)
def test_an_english_sentence_of_the_app_is_caught(detector, sentence):
    assert detector.find(sentence), sentence


@pytest.mark.parametrize(
    ("language", "sentence"),
    [("es", sentence) for sentence in SPANISH]
    + [("de", sentence) for sentence in GERMAN]
    + [("fr", sentence) for sentence in FRENCH],
)
def test_a_spanish_german_or_french_sentence_of_the_app_is_not_flagged(language, sentence):
    found = EnglishDetector(vocabulary=app_vocabulary(language)).find(sentence)
    assert not found, [str(english) for english in found]


def test_each_english_sentence_of_a_mixed_text_is_reported_whole():
    text = "Modo demo: these images are simulated.\nTu modelo está entrenado. Your model is ready to use.\n"
    found = EnglishDetector().find(text)
    assert [english.text for english in found] == ["these images are simulated.", "Your model is ready to use."]
    assert all(english.why for english in found)


@pytest.mark.parametrize("text", ["PhotoAgent", "FLUX.1-dev LoRA", "Hugging Face · Replicate", "LoRAs"])
def test_brand_names_alone_are_not_english(detector, text):
    assert not detector.find(text)


def test_brand_names_inside_a_spanish_sentence_do_not_make_it_english(detector):
    assert not detector.find("Modelo base FLUX.1-dev (sin LoRA) en PhotoAgent, con Replicate y Hugging Face")
    # …and do not hide the English around them.
    assert detector.find("The FLUX.1-dev base model, with no LoRA")


def test_what_the_user_typed_is_not_judged():
    typed = ["Blue mug for the shop", "the blue mug, view 1, on a wooden table", "a photo of TOK at the beach"]
    detector = EnglishDetector(user_data=typed)
    page = (
        "Entrenamiento de Blue mug for the shop\n"
        "the blue mug, view 1, on a wooden table\n"
        "Prompt: a photo of TOK at the beach\n"
        "Imagen 1: a photo of TOK at the beach"
    )
    assert detector.find(page) == []
    # Matched whatever the case, and English around it is still found (and shown with it).
    [found] = detector.find("Project BLUE MUG FOR THE SHOP is ready for you")
    assert found.text == "Project BLUE MUG FOR THE SHOP is ready for you"


def test_addresses_links_numbers_and_file_names_are_not_judged(detector):
    page = (
        "journey@example.com\n"
        "https://photoagent.example/accounts/verify/abc123/\n"
        "/projects/3/\n"
        "mug-01.jpg 1200×1100\n"
        "the_photo_of_the_day.webp\n"
        "15 / 15 · 4.2 MB · 100 %\n"
        "0,00\xa0US$ de 20,00\xa0US$ · 1,50 € · $0.04 · 3 USD\n"
        "pat_3f9a_secret_token 9f8e7d6c5b4a3f2e1d0c\n"
    )
    assert detector.find(page) == []


def test_a_language_switcher_names_each_language_in_its_own_words(detector):
    assert detector.find("English\nEspañol\nDeutsch\nFrançais") == []


def test_an_english_msgid_of_the_app_is_caught_even_as_one_word():
    vocabulary = Vocabulary.build(
        app_english=["Settings", "Prompt", "%(done)s of %(total)s photos uploaded", "%(n)s min"],
        translations=["Ajustes", "Prompt", "%(done)s de %(total)s fotos subidas", "%(n)s min"],
    )
    detector = EnglishDetector(vocabulary=vocabulary)
    assert detector.find("Settings")[0].why == "an English msgid of the app"
    assert detector.find("3 of 15 photos uploaded")[0].why == "an English msgid of the app"
    # Said the same way in Spanish, or too short to tell: not flagged.
    assert detector.find("Prompt\nAjustes\n3 de 15 fotos subidas\nunos 10 min") == []


def test_words_found_only_in_english_interface_text_make_a_chunk_english():
    vocabulary = Vocabulary.build(
        app_english=["Token name", "Expires soon"],
        translations=["Nombre del token", "Caduca pronto"],
        other=["Name des Tokens", "Läuft bald ab"],
    )
    detector = EnglishDetector(vocabulary=vocabulary)
    assert detector.find("Token expires soon")[0].why == "English-only words: expires, soon"
    # One word of another language, or a single English-only word, is not enough.
    assert detector.find("Token caduca soon\nNombre del token\nToken expires") == []


def test_a_page_reports_each_english_chunk_once():
    texts = ["Log in to your account", "Log in to your account", "Crea tu cuenta"]
    assert [english.text for english in english_in(texts, EnglishDetector())] == ["Log in to your account"]


def test_chunks_are_lines_sentences_and_the_pieces_between_separators():
    assert chunks("Listo. Ya puedes entrenar\nRápido — 500 pasos · unos 10 min: gratis") == [
        "Listo.",
        "Ya puedes entrenar",
        "Rápido",
        "500 pasos",
        "unos 10 min",
        "gratis",
    ]
