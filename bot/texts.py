"""Every sentence the bot says, in French. Placeholders are filled with `str.format` after lookup.

Dates and numbers are formatted with Babel (`bot.formatting`), never by hand.
"""

from __future__ import annotations

from typing import Final

# --- Access -------------------------------------------------------------------------------
REFUSAL: Final = (
    "Bonjour. Cet assistant est réservé à l'équipe AVEQ. Pour y accéder, demandez une "
    "invitation à votre coordinateur·rice, puis ouvrez le lien reçu."
)
COMMAND_NOT_FOR_ROLE: Final = "Cette commande n'est pas disponible pour votre rôle. /aide"
WELCOME: Final = "Bienvenue {name} ! Vous avez rejoint l'équipe AVEQ comme {role}.\n\n{help}"
WELCOME_BACK: Final = "Bonjour {name}. Que voulez-vous faire ?\n\n{help}"
INVITATION_INVALID: Final = (
    "Ce code d'invitation n'est pas valable : il a peut-être déjà servi ou expiré. "
    "Demandez-en un nouveau à votre coordinateur·rice."
)
ALREADY_MEMBER: Final = "Vous faites déjà partie de l'équipe. /aide"

ROLE_LABELS: Final = {
    "mediator": "médiateur·rice emploi",
    "project_officer": "chargé·e de projet emploi",
    "coordinator": "coordinateur·rice",
}

# --- Help and commands --------------------------------------------------------------------
COMMAND_DESCRIPTIONS: Final = {
    "nouveau": "Enregistrer une personne accrochée",
    "orienter": "Orienter une personne vers un partenaire",
    "suivis": "Mes points à faire sur les orientations",
    "contact": "Noter un contact avec une personne suivie",
    "sortie": "Clore la médiation d'une personne",
    "informes": "Noter des personnes informées (tour de rue, permanence…)",
    "personnes": "Voir mes personnes suivies",
    "equipe": "Voir l'équipe",
    "inviter": "Inviter un membre de l'équipe",
    "aide": "Comment utiliser l'assistant",
    "annuler": "Abandonner la saisie en cours",
    "start": "Démarrer",
    "stats": "Les chiffres, pour une période",
    "export": "Exporter les chiffres pour les financeurs",
    "donnees": "Dossier complet d'une personne (droit d'accès)",
    "effacer": "Effacer l'identité d'une personne (droit à l'effacement)",
    "journal": "Journal des actions sensibles",
    "evenement": "Créer un événement (café de l'emploi, forum…)",
    "agenda": "Les événements à venir et passés",
    "partenaires": "L'annuaire des partenaires et leurs correspondant·es",
    "comite": "Rapport pour un comité de suivi avec un partenaire",
}
HELP_HEADER: Final = "Voici ce que vous pouvez faire :"
HELP_LINE: Final = "/{command} : {description}"
HELP_FOOTER: Final = "À chaque étape, « Retour » revient en arrière et /annuler abandonne."

# --- Generic ------------------------------------------------------------------------------
BACK: Final = "◀ Retour"
CANCEL: Final = "✖ Annuler"
SKIP: Final = "Passer ▶"
VALIDATE: Final = "Valider ({count})"
YES: Final = "Oui"
NO: Final = "Non"
CANCELLED: Final = "Saisie abandonnée. Rien n'a été enregistré."
NOTHING_TO_CANCEL: Final = "Il n'y a rien à annuler."
EXPIRED: Final = (
    "La saisie en cours a été abandonnée après {minutes} sans réponse. "
    "Rien n'a été enregistré. Vous pouvez recommencer quand vous voulez."
)
EXPIRED_MINUTES: Final = ("{count} minute", "{count} minutes")
USE_BUTTONS: Final = "Merci de répondre avec les boutons ci-dessous."
NUMBER_INVALID: Final = "Écrivez un nombre entier entre {minimum} et {limit}."
EXPECT_TEXT: Final = "J'attends un message texte."
STALE_BUTTON: Final = "Ce bouton n'est plus actif."
ERROR: Final = (
    "Désolé, un problème est survenu et l'action n'a pas abouti. "
    "Réessayez ; si cela recommence, transmettez cette référence : {reference}."
)
DATABASE_UNAVAILABLE: Final = (
    "Service momentanément indisponible, rien n'a été perdu. Réessayez dans un instant."
)

# Domain error keys (models.errors.DomainError.key) → sentence.
DOMAIN_ERRORS: Final = {
    "engage_no_neighbourhood": (
        "Aucun quartier ne vous est rattaché : demandez à votre coordination de vous en "
        "attribuer un."
    ),
    "not_allowed": "Vous ne pouvez pas agir sur cette fiche.",
    "not_found": "Fiche introuvable.",
    "name_required": "Le nom ne peut pas être vide.",
    "name_too_long": "Ce nom est trop long ({limit} caractères au plus).",
    "neighbourhood_required": "Un quartier doit être choisi.",
    "already_member": ALREADY_MEMBER,
    "invitation_invalid": INVITATION_INVALID,
    "invitation_not_pending": "Cette invitation n'est plus en attente (utilisée ou retirée).",
    "cannot_deactivate_self": "Vous ne pouvez pas désactiver votre propre accès.",
    "first_name_invalid": "Indiquez un prénom ou des initiales (avec au moins une lettre).",
    "first_name_too_long": "C'est trop long : {limit} caractères au plus, le prénom suffit.",
    "phone_invalid": (
        "Ce numéro n'est pas reconnu. Exemples acceptés : 06 12 34 56 78, +33 6 12 34 56 78."
    ),
    "note_empty": "La note est vide.",
    "note_too_long": "Note trop longue ({length} / {limit} caractères) : raccourcissez-la.",
    "consent_required": "Sans accord de la personne, ni téléphone ni note ne sont gardés.",
    "choice_invalid": "Ce choix n'est plus proposé. Recommencez l'étape.",
    "stale_button": STALE_BUTTON,
    "event_code_unknown": "Aucune de vos personnes n'a ce code. Exemple : P-0012.",
    "no_neighbourhood": (
        "Aucun quartier ne vous est rattaché : demandez à votre coordination de vous en "
        "attribuer un."
    ),
    "count_invalid": "Indiquez un nombre entre 1 et {limit}.",
    "date_out_of_range": "Cette date n'est pas possible ici.",
    "person_exited": "La médiation de cette personne est close ; la coordination peut la rouvrir.",
    "person_not_exited": "La médiation de cette personne n'est pas close.",
    "coordinator_only": "Seule la coordination peut faire cela.",
    "transition_invalid": "Ce changement de situation n'est pas possible pour cette personne.",
    "partner_name_invalid": "Indiquez le nom du partenaire (120 caractères au plus).",
    "event_title_invalid": "Indiquez un titre ({limit} caractères au plus).",
    "event_place_invalid": "Indiquez le lieu ({limit} caractères au plus).",
    "event_theme_invalid": "Le secteur ou thème fait {limit} caractères au plus.",
    "event_past": "Cet événement est passé : les inscriptions sont closes.",
    "event_not_started": (
        "L'événement n'a pas encore commencé : les présences se notent le jour même."
    ),
    "headcount_invalid": "Indiquez un nombre entre 0 et {limit}.",
    "outcome_needs_attendance": "Notez d'abord que la personne est venue.",
    "summary_invalid": "Le bilan doit contenir du texte ({limit} caractères au plus).",
    "contact_field_invalid": "Ce champ fait {limit} caractères au plus, et ne peut pas être vide.",
    "email_invalid": "Cette adresse e-mail n'est pas reconnue (exemple : prenom.nom@exemple.fr).",
    "time_invalid": "Heure non reconnue. Exemples : 14h, 14h30, 9:45.",
}

# --- /nouveau -----------------------------------------------------------------------------
NEW_PROMPTS: Final = {
    "first_name": "Nouvelle personne accrochée.\nPrénom ou initiales ?",
    "profile": "Sexe et tranche d'âge ? (F : femme, H : homme ; ou écrivez « femme 26-44 »)",
    "sex": "Sexe ?",
    "age_bracket": "Tranche d'âge ?",
    "residence": "Lieu de résidence ?",
    "channel": "Comment la personne a-t-elle été repérée ?",
    "referrer": "Quel partenaire a orienté la personne ?",
    "barriers": "Freins à l'emploi ? (plusieurs choix possibles, puis « Valider »)",
    "consent": "La personne accepte-t-elle que l'on garde ses coordonnées ?",
    "phone": "Numéro de téléphone ? (facultatif)",
    "note": (
        "Une note courte ? (facultatif, 280 caractères au plus)\n"
        "Rappel : la personne peut lire cette note. Restez factuel·le."
    ),
}
NEW_FIELD_NAMES: Final = {
    "first_name": "Prénom",
    "profile": "Sexe et âge",
    "sex": "Sexe",
    "age_bracket": "Âge",
    "residence": "Résidence",
    "channel": "Repérage",
    "referrer": "Orienté·e par",
    "barriers": "Freins",
    "registered_ft": "Inscrit·e France Travail",
    "referent_contact": "Contact référent·e < 5 mois",
    "rsa": "RSA",
    "consent": "Accord coordonnées",
    "phone": "Téléphone",
    "note": "Note",
}
SEX_LABELS: Final = {
    "female": "Femme",
    "male": "Homme",
    "other": "Autre",
    "unspecified": "Non précisé",
}
ANSWER_LABELS: Final = {"yes": "Oui", "no": "Non", "unknown": "Ne sait pas"}
SEX_SHORT: Final = {"female": "F", "male": "H"}
SEX_AGE: Final = "{sex} · {age}"
SEX_AGE_OTHER: Final = "Autre, ou non précisé"
# The questions that use the person's recorded sex: « female », « male », else « neutral ».
NEW_AGE_PROMPTS: Final = {
    "female": "Quelle est sa tranche d'âge ?",
    "male": "Quelle est sa tranche d'âge ?",
    "neutral": "Tranche d'âge ?",
}
NEW_RESIDENCE_PROMPTS: Final = {
    "female": "Où habite-t-elle ?",
    "male": "Où habite-t-il ?",
    "neutral": "Où la personne habite-t-elle ?",
}
NEW_CHANNEL_PROMPTS: Final = {
    "female": "Comment a-t-elle été repérée ?",
    "male": "Comment a-t-il été repéré ?",
    "neutral": NEW_PROMPTS["channel"],
}
NEW_REFERRER_PROMPTS: Final = {
    "female": "Quel partenaire l'a orientée ?",
    "male": "Quel partenaire l'a orienté ?",
    "neutral": NEW_PROMPTS["referrer"],
}
NEW_REGISTRATION_PROMPTS: Final = {
    "female": (
        "Est-elle inscrite à France Travail ? Si oui : a-t-elle eu un contact avec un·e "
        "référent·e du Réseau pour l'emploi ces 5 derniers mois ?"
    ),
    "male": (
        "Est-il inscrit à France Travail ? Si oui : a-t-il eu un contact avec un·e référent·e "
        "du Réseau pour l'emploi ces 5 derniers mois ?"
    ),
    "neutral": (
        "La personne est-elle inscrite à France Travail ? Si oui : a-t-elle eu un contact avec "
        "un·e référent·e du Réseau pour l'emploi ces 5 derniers mois ?"
    ),
}
# registered with France Travail, then (after the dot) contact with a referent in 5 months
REGISTRATION_LABELS: Final = {
    "yes.yes": "Oui · contact ces 5 derniers mois",
    "yes.no": "Oui · sans contact depuis 5 mois",
    "yes.unknown": "Oui · contact : ne sait pas",
    "no": "Non",
    "unknown": "Ne sait pas",
}
NEW_RSA_PROMPTS: Final = {
    "female": "Touche-t-elle le RSA ?",
    "male": "Touche-t-il le RSA ?",
    "neutral": "La personne touche-t-elle le RSA ?",
}
NEW_CONSENT_QUESTION: Final = {
    "female": "Accepte-t-elle que l'on garde ses coordonnées ?",
    "male": "Accepte-t-il que l'on garde ses coordonnées ?",
    "neutral": NEW_PROMPTS["consent"],
}
# Already informed: agreeing, or refusing, in one tap.
AGREEMENT_LABELS: Final = {
    "female": ("✅ Informée · d'accord", "Informée · refuse"),
    "male": ("✅ Informé · d'accord", "Informé · refuse"),
    "neutral": ("✅ Informé·e · d'accord", "Informé·e · refuse"),
}
CONSENT_YES: Final = {
    "female": "Oui, elle accepte",
    "male": "Oui, il accepte",
    "neutral": "Oui, la personne accepte",
}
CONSENT_NO: Final = "Non"
NEW_ADD_PHONE: Final = "📞 Téléphone (facultatif)"
NEW_ADD_NOTE: Final = "📝 Note (facultatif)"
NONE_LABEL: Final = "aucun"
NOT_GIVEN: Final = "non renseigné"
NOT_GIVEN_NOTE: Final = "aucune"
NEW_SUMMARY_HEADER: Final = "Vérifiez avant d'enregistrer :"
NEW_SUMMARY_LINE: Final = "• {field} : {value}"
NEW_SAVE: Final = "✅ Enregistrer"
NEW_EDIT: Final = "✏️ Modifier"
NEW_EDIT_PROMPT: Final = "Que voulez-vous modifier ?"
NEW_SAVED: Final = "Enregistré : {code} ({first_name}), suivi·e par vous à {neighbourhood}."
NEW_DUPLICATE: Final = (
    "Attention : vous suivez déjà une personne au prénom qui lui ressemble. Est-ce la même "
    "personne ? Ouvrez sa fiche, ou continuez."
)
NEW_DUPLICATE_TITLE: Final = "Déjà suivi·e ?"
NEW_DUPLICATE_OPEN: Final = "Ouvrir {code} · {first_name} (accroché·e le {date})"
NEW_DUPLICATE_SAVE: Final = "Non, c'est une autre personne"
NEW_ORIENT_NOW: Final = "➡️ Orienter maintenant"
NEW_ANOTHER: Final = "➕ Nouvelle personne"

# --- Person card and /personnes -----------------------------------------------------------
PERSON_CARD: Final = (
    "{code} · {first_name}\n"
    "Statut : {status}\n"
    "Quartier : {neighbourhood}\n"
    "Accroché·e le {engaged}\n"
    "Dernier contact : {last_contact}"
)
STATUS_LABELS: Final = {
    "spotted": "repéré·e",
    "engaged": "accroché·e",
    "oriented": "orienté·e",
    "supported": "accompagné·e",
    "exited": "sorti·e",
}
PEOPLE_HEADER: Final = "Personnes suivies ({total}) · page {page}/{pages}"
PEOPLE_HEADER_ALL: Final = "Toutes les personnes suivies ({total}) · page {page}/{pages}"
PEOPLE_LINE: Final = "{code} · {first_name} · {status} · dernier contact {last_contact}"
PEOPLE_EMPTY: Final = "Vous ne suivez encore personne. Commencez avec /nouveau."
PEOPLE_HEADER_FILTERED: Final = "{count} · {filters} · page {page}/{pages}"
PEOPLE_PERSON: Final = ("{count} personne", "{count} personnes")
PEOPLE_FILTERED_EMPTY: Final = "Aucune personne ne correspond à ces filtres ({filters})."
PEOPLE_SEARCH_HINT: Final = (
    "Pour chercher quelqu'un : /personnes suivi d'un prénom ou d'un code (P-0012), "
    "ou « 🔎 Chercher »."
)
PEOPLE_SEARCH_BUTTON: Final = "🔎 Chercher"
PEOPLE_SEARCH_PROMPT: Final = "Tapez un prénom (ou son début) ou un code, par exemple P-0012."
PEOPLE_FOUND: Final = "Recherche : {count}."
PEOPLE_FOUND_FORMS: Final = ("{count} personne trouvée", "{count} personnes trouvées")
PEOPLE_FOUND_NONE: Final = "aucune personne trouvée"
PEOPLE_FOUND_MORE: Final = (
    "Seules les {shown} plus récentes sont montrées : précisez la recherche."
)
PEOPLE_BACK_TO_LIST: Final = "◀ Retour à la liste"
PEOPLE_FILTER_NEIGHBOURHOOD: Final = "Quartier : {value}"
PEOPLE_FILTER_MEDIATOR: Final = "Suivi·e par : {value}"
PEOPLE_FILTER_STATUS: Final = "Statut : {value}"
PEOPLE_FILTER_ANY: Final = "tous"
PEOPLE_FILTER_ASK_NEIGHBOURHOOD: Final = "Quel quartier ?"
PEOPLE_FILTER_ASK_MEDIATOR: Final = "Suivi·es par quel·le médiateur·rice ?"
PEOPLE_FILTER_ASK_STATUS: Final = "Quel statut ?"
PEOPLE_FILTER_ALL_NEIGHBOURHOODS: Final = "Tous les quartiers"
PEOPLE_FILTER_ALL_MEDIATORS: Final = "Toute l'équipe"
PEOPLE_FILTER_ALL_STATUSES: Final = "Tous les statuts"
CARD_FOLLOWED_BY: Final = "Suivi·e par : {name}"
CARD_FOLLOWED_BY_YOU: Final = "vous"
CARD_EXITED: Final = "Sorti·e le {date} : {reason}"
FOLLOWUPS_PAGE: Final = "Suivis · page {page}/{pages}"
PREVIOUS: Final = "◀ Précédent"
NEXT: Final = "Suivant ▶"

# --- /informes ----------------------------------------------------------------------------
INFORMED_KIND: Final = "Personnes informées : lors de quelle action ?"
INFORMED_COUNT: Final = "Combien de personnes informées ? (touchez un nombre ou écrivez-le)"
INFORMED_COUNT_INVALID: Final = (
    "Écrivez un nombre entier entre {minimum} et {limit}, par exemple 12."
)
INFORMED_DAY: Final = "Quel jour ?"
INFORMED_TODAY: Final = "Aujourd'hui"
INFORMED_YESTERDAY: Final = "Hier"
INFORMED_BEFORE_YESTERDAY: Final = "Avant-hier"
INFORMED_SAVED: Final = "Enregistré : {informed} ({kind}), le {date}, à {neighbourhood}."

# --- Team ---------------------------------------------------------------------------------
INVITE_ROLE: Final = "Inviter qui ? Choisissez le rôle."
INVITE_NAME: Final = "Nom de la personne invitée (tel qu'il apparaîtra dans l'équipe) ?"
INVITE_NEIGHBOURHOOD: Final = "Quel quartier lui est rattaché ?"
INVITE_READY: Final = (
    "Invitation créée pour {name} ({role}), valable jusqu'au {expires}, une seule fois.\n\n"
    "Transmettez-lui ce lien :\n{link}\n\nou ce message à envoyer au bot :\n/start {code}"
)
INVITE_READY_NO_LINK: Final = (
    "Invitation créée pour {name} ({role}), valable jusqu'au {expires}, une seule fois.\n\n"
    "{name} doit envoyer au bot ce message :\n/start {code}"
)
TEAM_HEADER: Final = "L'équipe ({count}) :"
TEAM_LINE: Final = "• {name} : {role}{neighbourhood}"
TEAM_NEIGHBOURHOOD: Final = ", {name}"
TEAM_DEACTIVATE: Final = "Désactiver {name}"
TEAM_CONFIRM: Final = "Désactiver l'accès de {name} ? Ses fiches restent dans la base."
TEAM_CONFIRM_YES: Final = "Oui, désactiver"
TEAM_DEACTIVATED: Final = "L'accès de {name} est désactivé."

# --- CLI ----------------------------------------------------------------------------------
CLI_NO_TOKEN: Final = (
    "Aucun jeton Telegram : copiez .env.example en .env et renseignez TELEGRAM_BOT_TOKEN "
    "avec le jeton donné par @BotFather (voir README.md)."
)
CLI_INVITE_CREATED: Final = (
    "Invitation ({role}) pour {name}, valable jusqu'au {expires}, une seule fois.\n"
    "Message à envoyer au bot depuis Telegram :\n/start {code}"
)
CLI_INVITE_LINK: Final = "Ou ce lien :\n{link}"
CLI_UNKNOWN_NEIGHBOURHOOD: Final = "Quartier inconnu : {code}. Quartiers connus : {known}"
CLI_DEMO_REFUSED: Final = (
    "La base contient déjà des personnes : les données de démonstration s'y mêleraient. "
    "Utilisez une base vide, ou --force si c'est bien une base de démonstration."
)
CLI_DEMO_DONE: Final = (
    "Données de démonstration créées : {people}, {orientations}, {interactions}, "
    "{informed_actions}."
)
# What the demo data commands count, by the key of their figures.
CLI_COUNTS: Final = {
    "members": ("{count} membre", "{count} membres"),
    "people": ("{count} personne", "{count} personnes"),
    "orientations": ("{count} orientation", "{count} orientations"),
    "interactions": ("{count} contact", "{count} contacts"),
    "informed_actions": ("{count} action d'information", "{count} actions d'information"),
    "events": ("{count} événement", "{count} événements"),
}
CLI_ROTATED: Final = (
    "Clé de chiffrement renouvelée : {count} valeur rechiffrée.",
    "Clé de chiffrement renouvelée : {count} valeurs rechiffrées.",
)
CLI_KEY_PROBLEM: Final = (
    "Clé de chiffrement inutilisable ({problem}). "
    "Voir README, « Données personnelles et sécurité »."
)
CLI_RETENTION_LINE: Final = "{code} · dernier contact le {last_contact}"
CLI_RETENTION_DRY: Final = (
    "Personnes à anonymiser (aucun contact depuis {months} mois) : {count}. Rien n'a été modifié."
)
CLI_RETENTION_DONE: Final = (
    "Personnes anonymisées : {anonymised} ; brouillons de membres partis supprimés : "
    "{drafts_purged} ; entrées anciennes du journal supprimées : {audit_purged}."
)
CLI_BACKUP_DONE: Final = (
    "Sauvegarde écrite : {path}\nGardez-la avec la clé de chiffrement (data/encryption.key)."
)
CLI_BACKUP_POSTGRES: Final = (
    "Cette commande sauvegarde la base SQLite intégrée. Pour PostgreSQL, utilisez pg_dump "
    "(voir README, « Sauvegardes »)."
)
CLI_NEIGHBOURHOOD_REQUIRED: Final = "Un·e médiateur·rice a besoin d'un quartier : --quartier CODE"


SESSION_GONE: Final = (
    "Cette saisie n'est plus en cours (abandonnée ou expirée) : rien n'a été enregistré. "
    "Recommencez avec /{command}."
)


NOT_UNDERSTOOD: Final = "Je n'ai pas compris. Tapez /aide pour voir ce que je sais faire."


# --- Choosing a person (shared by /orienter, /contact, /sortie) ---------------------------
PICK_PERSON: Final = "Quelle personne ? Touchez-la, ou écrivez son code (P-0042) ou son prénom."
PICK_PERSON_NONE: Final = (
    "Personne ne correspond à « {query} ». Réessayez avec le code ou le prénom."
)
PICK_PERSON_FOUND: Final = "Résultats pour « {query} » :"
PICK_PERSON_EMPTY: Final = "Vous ne suivez encore personne. Commencez avec /nouveau."

# --- /orienter ----------------------------------------------------------------------------
ORIENT_CATEGORY: Final = "{person} : vers quel type de partenaire ?"
ORIENT_PARTNER: Final = "Quel partenaire ?"
ORIENT_OTHER_PARTNER: Final = "➕ Autre partenaire"
ORIENT_NEW_PARTNER: Final = "Nom du partenaire à ajouter ?"
ORIENT_PURPOSE: Final = "Vers {partner} : pour quoi ?"
ORIENT_MODE: Final = "Comment ?"
ORIENT_APPOINTMENT: Final = (
    "Date du rendez-vous ? Touchez un bouton ou écrivez une date (12/03, 12/03/2026, lundi)."
)
ORIENT_APPOINTMENT_INVALID: Final = (
    "Je n'ai pas compris cette date, ou elle est trop loin. Exemples : 12/03, 12/03/2026, lundi."
)
ORIENT_TODAY: Final = "Aujourd'hui"
ORIENT_TOMORROW: Final = "Demain"
ORIENT_NEXT_WEEK: Final = "Dans une semaine"
ORIENT_NO_APPOINTMENT: Final = "Pas de rendez-vous"
ORIENT_NOTE: Final = (
    "Une note courte ? (facultatif, 280 caractères au plus)\n"
    "Rappel : la personne peut lire cette note. Restez factuel·le."
)
ORIENT_SUMMARY: Final = (
    "Vérifiez avant d'enregistrer :\n"
    "• Personne : {person}\n"
    "• Partenaire : {partner}\n"
    "• Objet : {purpose}\n"
    "• Modalité : {mode}\n"
    "• Rendez-vous : {appointment}\n"
    "• Note : {note}"
)
NOTE_WRITTEN: Final = "écrite ({length} ; elle ne sera plus montrée ici)"
NOTE_LENGTH: Final = ("{count} caractère", "{count} caractères")
ORIENT_SAVED: Final = (
    "Orientation enregistrée : {person} vers {partner}. "
    "Je vous rappellerai de faire le point le {check}."
)
PURPOSE_LABELS: Final = {
    "rpe_registration": "(Ré)inscription au Réseau pour l'emploi",
    "support": "Accompagnement",
    "training": "Formation",
    "job": "Emploi",
    "pmsmp": "PMSMP (immersion)",
    "rights": "Droits et accès aux services",
    "other": "Autre",
}
MODE_LABELS: Final = {
    "information": "Information",
    "appointment": "Rendez-vous pris",
    "accompanied": "Accompagnement physique",
    "tripartite": "Rendez-vous tripartite",
}
NO_APPOINTMENT: Final = "aucun"

# --- Reminders and /suivis ----------------------------------------------------------------
REMINDER: Final = (
    "Point à faire : {person}\n"
    "Orienté·e vers {partner} le {created}{appointment}.\n"
    "Que s'est-il passé ?"
)
REMINDER_OVERDUE: Final = "⚠️ Sans réponse après deux relances · "
REMINDER_APPOINTMENT: Final = ", rendez-vous le {date}"
ANSWER_LABELS_FOLLOWUP: Final = {
    "started": "Venu·e, accompagnement démarré",
    "came_no_follow": "Venu·e, sans suite",
    "no_show": "Pas venu·e",
    "reorient": "Réorienter",
    "snooze": "Relancer dans 7 jours",
    "close": "Clore la médiation",
}
ANSWER_RECORDED: Final = "{person} · {partner} : {outcome} (enregistré le {date})."
ANSWER_SNOOZED: Final = "{person} · {partner} : je vous relancerai le {date}."
ANSWER_ALREADY: Final = "Déjà enregistré."
OUTCOME_LABELS: Final = {
    "started": "venu·e, accompagnement démarré",
    "came_no_follow": "venu·e, sans suite",
    "no_show": "pas venu·e",
    "reoriented": "réorienté·e",
    "closed": "médiation close",
}
FOLLOWUPS_HEADER: Final = "Vos points à faire : {due} en retard, {later} à venir."
FOLLOWUPS_EMPTY: Final = "Aucun suivi en attente. Orientez une personne avec /orienter."
FOLLOWUPS_LATER: Final = "À venir :"
FOLLOWUPS_LATER_LINE: Final = "• {person} · {partner} · point le {date}"

# --- /contact -----------------------------------------------------------------------------
CONTACT_KIND: Final = "{person} : quel contact ?"
CONTACT_NOTE: Final = (
    "Une note courte ? (facultatif, 280 caractères au plus)\n"
    "Rappel : la personne peut lire cette note. Restez factuel·le."
)
CONTACT_SAVED: Final = "Contact enregistré avec {person} ({kind}), le {date}."
CONTACT_LABELS: Final = {
    "interview": "Entretien",
    "call": "Appel",
    "street": "Rencontre dans la rue",
    "drop_in": "Permanence",
    "other": "Autre",
}

# --- /sortie ------------------------------------------------------------------------------
EXIT_REASON: Final = "{person} : pour quelle raison la médiation se termine-t-elle ?"
EXIT_DATE: Final = "Date de sortie ? Touchez « Aujourd'hui » ou écrivez une date (12/03)."
EXIT_CONFIRM: Final = "Clore la médiation de {person} ({reason}), le {date} ?"
EXIT_CONFIRM_YES: Final = "Oui, clore"
EXIT_SAVED: Final = "Médiation close pour {person} ({reason}), le {date}."
EXIT_LABELS: Final = {
    "durable_job": "Emploi durable (CDI ou CDD de 6 mois et plus)",
    "short_job": "Emploi de moins de 6 mois ou intérim",
    "qualifying_training": "Formation qualifiante",
    "partner_support": "Pris·e en charge par un partenaire du Réseau pour l'emploi",
    "business_creation": "Création d'activité",
    "moved": "Déménagement",
    "lost_contact": "Perdu·e de vue",
    "declined": "Refus de la personne",
    "other": "Autre",
}

# --- Person card actions ------------------------------------------------------------------
CARD_ORIENT: Final = "Orienter"
CARD_CONTACT: Final = "Noter un contact"
CARD_EXIT: Final = "Clore la médiation"
CARD_REOPEN: Final = "Rouvrir la médiation"
REOPENED: Final = "Médiation rouverte pour {person}."


# --- Figures (digest, /stats) -------------------------------------------------------------
REPORT_TITLE: Final = "📊 {scope} · du {start} au {end}"
REPORT_INFORMED: Final = "Personnes informées : {count}"
REPORT_ENGAGED: Final = "Nouvelles personnes accrochées : {count}"
REPORT_PART: Final = "{label} {count} ({share})"
REPORT_NONE: Final = "aucun"
REPORT_BY_CHANNEL: Final = "• repérage : {parts}"
REPORT_BY_RESIDENCE: Final = "• résidence : {parts}"
REPORT_BY_AGE: Final = "• âge : {parts}"
REPORT_BY_SEX: Final = "• sexe : {parts}"
REPORT_BY_NEIGHBOURHOOD: Final = "• quartier : {parts}"
REPORT_BY_MEDIATOR: Final = "• médiateur·rice : {parts}"
REPORT_BARRIERS: Final = "Freins : {parts}"
REPORT_DECOUPLING: Final = (
    "Inscrit·es à France Travail : {registered} · en contact avec un·e référent·e : {accompanied}"
    " · public prioritaire O2R : {priority}"
)
REPORT_ORIENTATIONS: Final = "Orientations : {count}"
REPORT_BY_CATEGORY: Final = "• vers : {parts}"
REPORT_BY_PURPOSE: Final = "• pour : {parts}"
REPORT_OUTCOMES: Final = (
    "• issues connues ({known}) : venu·es {came}, accompagnement démarré {started}, "
    "absent·es {no_show}"
)
REPORT_EXITS: Final = "Sorties : {count} ({parts})"
REPORT_NO_EXIT: Final = "Sorties : 0"
REPORT_EVENTS: Final = (
    "Événements : {count} ({kinds}) · {attendees}, dont {registered} et {unregistered} sans "
    "inscription · changements de situation : {changed} ({parts})"
)
REPORT_ATTENDEES: Final = ("{count} participant·e", "{count} participant·es")
REPORT_REGISTERED_CAME: Final = ("{count} inscrit·e venu·e", "{count} inscrit·es venu·es")
REPORT_TARGET: Final = (
    "Objectif de l'année : {done} / {target} ({share}) · rythme nécessaire : {pace} par semaine"
)
SCOPE_TEAM: Final = "Toute l'équipe"
SCOPE_NEIGHBOURHOOD: Final = "Quartier {name}"
SCOPE_MEDIATOR: Final = "{name}"


# --- Weekly digest and recap --------------------------------------------------------------
RECAP: Final = (
    "Votre semaine du {start} au {end} : {informed}, {engaged}, {oriented}, {exits}.\n"
    "Suivis en retard : {overdue}."
)
# The week's figures in the recap and the digest.
COUNT_INFORMED: Final = ("{count} personne informée", "{count} personnes informées")
COUNT_ENGAGED: Final = ("{count} personne accrochée", "{count} personnes accrochées")
COUNT_ORIENTATIONS: Final = ("{count} orientation", "{count} orientations")
COUNT_EXITS: Final = ("{count} sortie", "{count} sorties")


# --- /stats and /export -------------------------------------------------------------------
STATS_SCOPE: Final = "Quels chiffres ?"
STATS_SCOPE_TEAM: Final = "Toute l'équipe"
STATS_SCOPE_NEIGHBOURHOOD: Final = "Par quartier"
STATS_SCOPE_MEDIATOR: Final = "Par médiateur·rice"
STATS_PICK_NEIGHBOURHOOD: Final = "Quel quartier ?"
STATS_PICK_MEDIATOR: Final = "Quel·le médiateur·rice ?"
STATS_PERIOD: Final = "{scope} : quelle période ?"
EXPORT_PERIOD: Final = "Exporter quelle période ?"
EXPORT_SHEET_INDICATORS: Final = "Indicateurs"
EXPORT_SHEET_PEOPLE: Final = "Personnes"
EXPORT_SHEET_ORIENTATIONS: Final = "Orientations"
EXPORT_SHEET_EXITS: Final = "Sorties"
EXPORT_SHEET_INFORMED: Final = "Personnes informées"
EXPORT_SHEET_EVENTS: Final = "Événements"
EXPORT_EVENT_HEADERS: Final = {
    "day": "Date",
    "kind": "Type",
    "title": "Titre",
    "neighbourhood": "Quartier",
    "theme": "Thème",
    "partners": "Partenaires présents",
    "registered": "Inscrit·es",
    "attended_registered": "Inscrit·es venu·es",
    "unregistered": "Venu·es sans inscription",
    "attendees": "Participant·es",
    "changed": "Changements de situation",
}
EXPORT_SHEET_PARTNERS: Final = "Partenaires"
EXPORT_PARTNER_HEADERS: Final = (
    "Partenaire",
    "Catégorie",
    "Orientations",
    "Issue connue",
    "En attente",
    "Délai médian jusqu'au premier rendez-vous (jours)",
    "Part des personnes venues",
    "Part des accompagnements démarrés",
)


# --- Rights and audit ---------------------------------------------------------------------
RIGHTS_ACCESS_USAGE: Final = "Indiquez le code de la personne : /donnees P-0042"
RIGHTS_ACCESS_READY: Final = (
    "Dossier complet de {code} (droit d'accès), notes comprises. "
    "Transmettez-le à la personne par un moyen sûr, puis supprimez-le de cette conversation."
)
RIGHTS_ERASE_USAGE: Final = "Indiquez le code de la personne : /effacer P-0042"
RIGHTS_ERASE_CONFIRM: Final = (
    "Effacer l'identité, les coordonnées et les notes de {person} ? "
    "Les chiffres anonymes sont conservés. Cette action est définitive."
)
RIGHTS_ERASE_YES: Final = "Oui, effacer"
RIGHTS_ERASED: Final = "{code} : identité, coordonnées et notes effacées."
JOURNAL_HEADER: Final = "Journal des actions sensibles (les plus récentes d'abord) :"
JOURNAL_LINE: Final = "{at} · {who} · {action} · {subject}"
JOURNAL_EMPTY: Final = "Le journal est vide."
JOURNAL_SYSTEM: Final = "système"
AUDIT_ACTIONS: Final = {
    "open_card": "a ouvert la fiche",
    "export": "a exporté",
    "access_request": "a extrait le dossier",
    "erase": "a effacé",
    "invite": "a invité",
    "join": "a rejoint l'équipe",
    "deactivate": "a désactivé",
    "revoke_invitation": "a retiré l'invitation de",
    "reopen": "a rouvert la médiation",
}


# --- Events (/evenement, /agenda) ---------------------------------------------------------
EVENT_KIND_LABELS: Final = {
    "job_cafe": "Café de l'emploi",
    "job_dating": "Job dating",
    "forum": "Forum",
    "workshop": "Atelier",
    "company_visit": "Visite d'entreprise",
    "info_session": "Information collective",
    "other": "Autre",
}
EVENT_OUTCOME_LABELS: Final = {
    "interview": "Entretien obtenu",
    "training": "Entrée en formation",
    "hired": "Embauche",
    "rpe": "Inscription au RPE",
    "other": "Autre changement",
}
EVENT_PROMPTS: Final = {
    "kind": "Nouvel événement.\nQuel type ?",
    "title": "Titre ? (« Passer » garde « {default} »)",
    "day": "Date ? (ex. 29/03, 29/03/2027, jeudi)",
    "time": "Heure de début ? (boutons, ou tapez 14h30)",
    "neighbourhood": "Dans quel quartier ?",
    "place": "Lieu ? (adresse ou nom du lieu)",
    "theme": "Secteur ou thème ? (ex. hôtellerie-restauration ; facultatif)",
    "partners": (
        "Partenaires présents ? (employeurs, organismes de formation, partenaires du RPE ; "
        "plusieurs choix, puis « Valider »)"
    ),
    "newcategory": "Nouveau partenaire : de quelle catégorie ?",
    "newname": "Nom du nouveau partenaire ?",
}
EVENT_NEW_PARTNER: Final = "➕ Nouveau partenaire"
EVENT_SUMMARY: Final = "Vérifiez avant d'enregistrer :\n\n{card}"
EVENT_FIELD_NAMES: Final = {
    "kind": "Type",
    "title": "Titre",
    "day": "Date",
    "time": "Heure",
    "neighbourhood": "Quartier",
    "place": "Lieu",
    "theme": "Thème",
    "partners": "Partenaires présents",
}
EVENT_SAVED: Final = "✅ Événement enregistré.\n\n{card}"
EVENT_NO_PARTNER: Final = "aucun pour l'instant"
EVENT_CARD_HEADING: Final = "{title} ({kind})"
EVENT_CARD: Final = (
    "📅 {heading}\n{when}\n📍 {place}, {neighbourhood}{theme}\nPartenaires : {partners}"
)
EVENT_CARD_THEME: Final = "\nThème : {theme}"
EVENT_CARD_FIGURES: Final = (
    "\nInscrit·es : {registered} · venu·es : {came} · sans inscription : {unregistered} "
    "· total présent·es : {attendees}"
)
EVENT_CARD_OWN: Final = "\nVos personnes inscrites : {people}"
EVENT_CARD_OUTCOMES: Final = "\nChangements de situation : {count} ({parts})"
EVENT_CARD_SUMMARY: Final = "\nBilan : {summary}"
EVENT_WHEN: Final = "{day} à {time}"
EVENT_BUTTON_REGISTER: Final = "➕ Inscrire mes personnes"
EVENT_BUTTON_BY_CODE: Final = "🔢 Inscrire par code"
EVENT_BUTTON_ATTENDANCE: Final = "✅ Présences"
EVENT_BUTTON_HEADCOUNT: Final = "👥 Sans inscription : {count}"
EVENT_BUTTON_OUTCOMES: Final = "🎯 Changements de situation"
EVENT_BUTTON_SUMMARY: Final = "📝 Bilan"
EVENT_BUTTON_CARD: Final = "◀ L'événement"
EVENT_BUTTON_AGENDA: Final = "◀ Agenda"
EVENT_BUTTON_PAST: Final = "🗂 Événements passés"
EVENT_BUTTON_NO_OUTCOME: Final = "Pas de changement connu"
EVENT_REGISTER_LIST: Final = (
    "Vos personnes pour « {title} » : touchez pour inscrire ou retirer (✅ = inscrit·e)."
)
EVENT_REGISTER_NONE: Final = "Vous ne suivez encore personne. /nouveau"
EVENT_ASK_CODE: Final = "Code de la personne à inscrire ? (ex. P-0012)"
EVENT_ATTENDANCE: Final = (
    "Présences à « {title} » : touchez une personne pour la noter venue (✅) ou non.\n"
    "Pour les personnes venues sans inscription, touchez « Sans inscription »."
)
EVENT_ATTENDANCE_NONE: Final = "Personne n'est inscrit·e. Notez le nombre de personnes venues."
EVENT_ASK_HEADCOUNT: Final = "Combien de personnes sont venues sans inscription ? (un nombre)"
EVENT_OUTCOMES: Final = (
    "Qu'est-ce qui a changé pour les personnes venues ? Touchez une personne pour le noter."
)
EVENT_OUTCOMES_NONE: Final = "Notez d'abord les présences : personne n'est marqué·e venu·e."
EVENT_OUTCOME_FOR: Final = "{person} : qu'est-ce qui a changé ?"
EVENT_ASK_SUMMARY: Final = (
    "Le bilan « à chaud » en quelques lignes (1\u202f000 caractères au plus). "
    "Sans nom ni information sur la santé : ce texte est lu par l'équipe."
)
AGENDA_TITLE: Final = "📅 Agenda"
AGENDA_EMPTY: Final = "Aucun événement à venir."
AGENDA_LINE: Final = "• {day} {time} — {title}, {neighbourhood}"
AGENDA_PAST_TITLE: Final = "🗂 Événements passés"
AGENDA_PAST_EMPTY: Final = "Aucun événement passé."
AGENDA_PAST_LINE: Final = "• {day} — {title}, {neighbourhood} : {attendees}, {changed}"
AGENDA_ATTENDEES: Final = ("{count} présent·e", "{count} présent·es")
AGENDA_CHANGED: Final = ("{count} changement", "{count} changements")
AGENDA_NO_CHANGE: Final = "aucun changement"
EVENT_EVE_REMINDER: Final = (
    "🔔 Bientôt, {when} : {title} ({neighbourhood}, {place}).\n"
    "Vos personnes inscrites : {people}.\nPensez à leur rappeler le rendez-vous."
)
EVENT_OUTCOMES_REQUEST: Final = (
    "🎯 « {title} » a eu lieu le {day}. Qu'est-ce qui a changé pour les personnes venues ? "
    "Notez les changements de situation et le bilan « à chaud »."
)
EVENT_OPEN: Final = "Voir l'événement"

# --- Partner directory (/partenaires) and committees (/comite) ----------------------------
DIRECTORY_TITLE: Final = "Annuaire des partenaires : quelle catégorie ?"
DIRECTORY_CATEGORY: Final = "{category} :"
DIRECTORY_EMPTY: Final = "Aucun partenaire dans cette catégorie."
DIRECTORY_ADD: Final = "➕ Ajouter un partenaire"
DIRECTORY_BACK: Final = "◀ Catégories"
DIRECTORY_ASK_NAME: Final = "Nom du partenaire à ajouter ({category}) ?"
PARTNER_CARD: Final = "🤝 {name}\nCatégorie : {category}\n\n{contact}"
PARTNER_NO_CONTACT: Final = "Pas encore de correspondant·e ressource."
PARTNER_CONTACT: Final = "Correspondant·e ressource : {name}{role}{phone}{email}{notes}"
PARTNER_CONTACT_ROLE: Final = "\nFonction : {value}"
PARTNER_CONTACT_PHONE: Final = "\nTéléphone : {value}"
PARTNER_CONTACT_EMAIL: Final = "\nE-mail : {value}"
PARTNER_CONTACT_NOTES: Final = "\nComment orienter : {value}"
PARTNER_CONTACT_FIELDS: Final = {
    "contact_name": "Nom",
    "contact_role": "Fonction",
    "contact_phone": "Téléphone",
    "contact_email": "E-mail",
    "referral_notes": "Comment orienter",
}
PARTNER_EDIT: Final = "✏️ Modifier le contact"
PARTNER_EDIT_WHICH: Final = "Quel champ modifier ?"
PARTNER_ASK_FIELD: Final = "{field} ? (tapez la nouvelle valeur, ou « Effacer »)"
PARTNER_CLEAR: Final = "🗑 Effacer"
PARTNER_SAVED: Final = "Enregistré."
PARTNER_CONTACT_BUTTON: Final = "📇 Contact du partenaire"
PARTNER_COMMITTEE: Final = "📊 Rapport pour le comité"
COMMITTEE_TITLE: Final = "Rapport pour un comité de suivi : quelle catégorie de partenaire ?"
COMMITTEE_PERIOD: Final = "Comité avec {partner} : sur quelle période ?"
COMMITTEE_PARTNER: Final = "{category} : quel partenaire ?"
COMMITTEE_REPORT: Final = (
    "📊 Comité de suivi — {partner}\nDu {start} au {end}\n\n"
    "Orientations : {total} (issue connue : {known}, en attente : {pending})\n"
    "Délai médian jusqu'au premier rendez-vous : {median}\n"
    "Personnes venues : {came} · accompagnement démarré : {started} (sur les issues connues)\n"
    "Issues : {outcomes}"
)
COMMITTEE_MEDIAN: Final = "{days} (sur {appointments})"
COMMITTEE_DAYS: Final = ("{count} jour", "{count} jours")
COMMITTEE_APPOINTMENTS: Final = ("{count} rendez-vous fixé", "{count} rendez-vous fixés")
COMMITTEE_NO_MEDIAN: Final = "aucun rendez-vous fixé"
COMMITTEE_PENDING: Final = "en attente"
COMMITTEE_LINES_TITLE: Final = "\n\nDétail (codes) :"
COMMITTEE_LINE: Final = "• {code} orienté·e le {created} — {purpose}{appointment} — {outcome}"
COMMITTEE_LINE_APPOINTMENT: Final = ", RDV le {day}"
COMMITTEE_SHEET_SUMMARY: Final = "Synthèse"
COMMITTEE_SHEET_ROWS: Final = "Orientations"
COMMITTEE_SUMMARY_HEADERS: Final = ("Indicateur", "Valeur")
COMMITTEE_ROW_HEADERS: Final = (
    "Code", "Orienté·e le", "Objet", "Modalité", "Rendez-vous le", "Délai (jours)", "Issue",
    "Issue le",
)  # fmt: skip
COMMITTEE_SUMMARY_ROWS: Final = {
    "partner": "Partenaire",
    "period": "Période",
    "total": "Orientations",
    "known": "Issue connue",
    "pending": "En attente",
    "median": "Délai médian jusqu'au premier rendez-vous (jours)",
    "came": "Part des personnes venues (issues connues)",
    "started": "Part des accompagnements démarrés (issues connues)",
}


def domain_error(key: str, params: dict[str, object] | None = None) -> str:
    """The sentence for a domain error key, filled in."""
    template = DOMAIN_ERRORS.get(key, DOMAIN_ERRORS["choice_invalid"])
    return template.format(**(params or {}))


# --- Status rules: re-opening a supported person (issue 13, item 12) ----------------------
CARD_REOPEN_SUPPORT: Final = "Rouvrir : accompagnement terminé"
REOPENED_SUPPORT: Final = "{person} : accompagnement terminé, de nouveau {status}."


# --- Health check: python -m bot health (issue 13, item 14) ---------------------------------
HEALTH_OK: Final = (
    "Bot en bonne santé : base de données joignable, dernier échange réussi avec Telegram "
    "il y a {seconds} s."
)
HEALTH_DATABASE_DOWN: Final = "Bot en mauvaise santé : base de données injoignable ({error})."
HEALTH_NO_HEARTBEAT: Final = (
    "Bot en mauvaise santé : aucun échange réussi avec Telegram enregistré ({path}) ; "
    "le bot tourne-t-il ?"
)
HEALTH_STALE: Final = (
    "Bot en mauvaise santé : aucun échange réussi avec Telegram depuis {seconds} s "
    "(limite : {limit} s)."
)


# --- Erasure and backups (issue 13, items 4 and 5) ---
CLI_BACKUP_KEPT: Final = (
    "Sauvegarde gardée : la plus récente (anciennes supprimées : {removed}).",
    "Sauvegardes gardées : les {count} plus récentes (anciennes supprimées : {removed}).",
)
CLI_BACKUP_EXISTS: Final = (
    "Une sauvegarde de cette seconde existe déjà dans ce dossier : relancez dans une seconde."
)
CLI_BACKUP_KEEP_INVALID: Final = "--keep attend un nombre entier, au moins 1."


# --- Information notice and consent record (issue 17) --------------------------------------
NOTICE_PROMPT: Final = (
    "Avant de demander l'accord pour garder ses coordonnées : informer la personne de ce qui "
    "est gardé, pour combien de temps, et de ses droits."
)
NEW_PROMPTS["language"] = (
    "En quelle langue ? Le message suivant est pour la personne : tournez l'écran vers elle."
)
NEW_FIELD_NAMES["notice"] = "Information"
NEW_FIELD_NAMES["language"] = "Langue de l'information"
NOTICE_SHOW: Final = "📄 Montrer l'information"
NOTICE_SUMMARY_LABELS: Final = {"show": "montrée", "skip": "déjà informé·e"}
NOTICE_NOT_REVIEWED: Final = "{label} · traduction non relue"
NOTICE_SENT: Final = (
    "Information en {language} (version {version}) : montrez le message ci-dessous à la personne."
)
NOTICE_UNAVAILABLE: Final = (
    "L'information n'a pas pu être affichée (fichier de notice à corriger par l'opérateur). "
    "Informez la personne de vive voix."
)
CONSENT_SCRIPT: Final = (
    "À lire à voix haute : « Vous savez ce que nous gardons et quels sont vos droits. "
    "Êtes-vous d'accord pour que l'on garde votre téléphone et une note courte ? »"
)
CONSENT_QUESTION_FOR_PERSON: Final = "Pour la personne :\n{question}"
CONSENT_WITHDRAW: Final = "Retirer l'accord (coordonnées)"
CONSENT_WITHDRAW_CONFIRM: Final = (
    "{person} retire son accord : son téléphone et toutes ses notes seront effacés tout de "
    "suite. Confirmer ?"
)
CONSENT_WITHDRAW_YES: Final = "Oui, retirer l'accord"
CONSENT_WITHDRAW_NO: Final = "Non, revenir à la fiche"
CONSENT_WITHDRAWN: Final = "{code} : accord retiré ; téléphone et notes effacés."
DOMAIN_ERRORS["consent_not_given"] = (
    "Cette personne n'a pas d'accord en cours pour ses coordonnées."
)
AUDIT_ACTIONS["withdraw_consent"] = "a enregistré le retrait d'accord"
CONSENT_RECORD_HEADER: Final = "Information et accord :"
CONSENT_RECORD_NONE: Final = "• rien d'enregistré (personne saisie avant la notice d'information)"
CONSENT_RECORD_SHOWN: Final = "• information montrée le {date} en {language} (version {version})"
CONSENT_RECORD_NOT_SHOWN: Final = "• information déjà donnée : notice non montrée par le bot"
CONSENT_RECORD_GIVEN: Final = "• accord pour les coordonnées donné le {date}"
CONSENT_RECORD_REFUSED: Final = "• accord pour les coordonnées refusé le {date}"
CONSENT_RECORD_WITHDRAWN: Final = "• accord retiré le {date}"
CONSENT_RECORD_FILE: Final = "Le texte exact montré est dans le fichier."


# --- Delivery: members Telegram refuses, handing a departed mediator's people over ----------
UNREACHABLE_REASONS: Final = {
    "chat_not_found": "conversation introuvable : le bot n'a jamais été démarré",
    "blocked": "le bot est bloqué",
    "deactivated": "compte Telegram supprimé",
    "refused": "conversation refusée",
}
UNREACHABLE_NOTICE: Final = (
    "⚠️ Telegram refuse les messages destinés à {name} ({reason}) depuis le {since}. "
    "Ses rappels et récapitulatifs sont mis de côté et réessayés régulièrement ; "
    "ils reprendront dès que {name} aura rouvert ou débloqué le bot."
)
TEAM_UNREACHABLE: Final = " — ⚠️ injoignable depuis le {since} ({reason})"
TEAM_STALLED_HEADER: Final = "\n\nAccès désactivé, personnes encore à confier :"
TEAM_STALLED_LINE: Final = (
    "• {name} : personnes suivies : {people}, suivis en attente : {orientations}"
)
TEAM_HANDOVER: Final = "Confier les personnes de {name}"
TEAM_HANDOVER_TO: Final = (
    "À quel·le médiateur·rice confier les personnes de {name} "
    "(personnes suivies : {people}, suivis en attente : {orientations}) ?"
)
TEAM_HANDOVER_NO_TARGET: Final = (
    "Aucun·e médiateur·rice actif·ve à qui confier ces personnes : invitez-en un·e avec /inviter."
)
TEAM_HANDOVER_CONFIRM: Final = (
    "Confier à {to} les personnes de {name} et leurs suivis en attente ? "
    "Les rappels iront désormais à {to}."
)
TEAM_HANDOVER_YES: Final = "Oui, confier"
TEAM_HANDOVER_DONE: Final = (
    "Les personnes de {name} sont confiées à {to} (personnes : {people}, "
    "suivis en attente : {orientations})."
)
TEAM_HANDOVER_RECEIVED: Final = (
    "{by} vous confie les personnes suivies par {name} (personnes : {people}, "
    "suivis en attente : {orientations}). Retrouvez-les dans /personnes et /suivis."
)
TEAM_DEACTIVATED_WORK: Final = (
    "L'accès de {name} est désactivé. Personnes suivies : {people}, suivis en attente : "
    "{orientations} : sans médiateur·rice, leurs rappels ne partent plus. "
    "Confiez-les à un·e autre médiateur·rice."
)
TEAM_DEACTIVATION_NOTICE: Final = (
    "{by} a désactivé l'accès de {name}. Personnes suivies : {people}, suivis en attente : "
    "{orientations} : sans médiateur·rice, leurs rappels ne partent plus. "
    "/equipe pour les confier à un·e autre médiateur·rice."
)
AUDIT_ACTIONS["handover"] = "a confié les personnes de"
DOMAIN_ERRORS["handover_source_active"] = (
    "Ce membre est encore actif : ses personnes restent les siennes."
)
DOMAIN_ERRORS["handover_target_invalid"] = (
    "Ces personnes ne peuvent être confiées qu'à un·e autre médiateur·rice actif·ve."
)
CLI_DEMO_REMOVED: Final = (
    "Données de démonstration supprimées : {members}, {people}, {orientations}, "
    "{interactions}, {informed_actions}, {events}."
)
CLI_DEMO_NOTHING: Final = "Aucune donnée de démonstration dans la base."


# --- Keys: start checks and rotation while the bot runs (issue 13) ---------------------------
CLI_KEYS_REFUSED: Final = (
    "Le bot ne démarre pas : la clé de chiffrement ({source}) est absente, vide, illisible ou "
    "ne déchiffre pas les téléphones et notes déjà enregistrés : remettez celle sauvegardée avec "
    "la base (README, « Données personnelles et sécurité »)."
)
CLI_ROTATED_FILE: Final = (
    "La clé précédente reste dans {path} jusqu'à la prochaine rotation (le bot en marche a pu "
    "écrire avec elle juste avant) ; les clés plus anciennes retirées : {dropped}."
)
CLI_ROTATED_ENV: Final = (
    "Avant de retirer l'ancienne clé de DATA_ENCRYPTION_KEY, redémarrez chaque instance du bot "
    "avec la nouvelle clé en premier puis relancez rotate-key : une instance lancée avant a pu "
    "écrire avec l'ancienne."
)
CLI_ROTATE_UNREADABLE: Final = (
    "{count} valeur ne se déchiffre avec aucune clé connue : aucune clé n'a été retirée.",
    "{count} valeurs ne se déchiffrent avec aucune clé connue : aucune clé n'a été retirée.",
)


# --- Partners close the loop (issue 16): confirmation links -------------------------------
DOMAIN_ERRORS.update(
    {
        "confirmation_settled": "Ce suivi est déjà renseigné : rien à demander au partenaire.",
        "confirmation_unknown": "Cette demande n'existe plus.",
        "confirmation_not_pending": "Cette demande n'attend plus de réponse.",
    }
)
OUTCOME_LABELS.update(  # outcomes a partner can give besides the reminder's
    {"unreachable": "injoignable", "not_for_us": "pas pour le partenaire"}
)
ASK_PARTNER: Final = "Demander au partenaire"
ASK_PARTNER_MESSAGE: Final = (
    "Suivi d'une orientation (programme AVEQ)\n"
    "{mediator}, médiateur·rice emploi, vous a orienté la personne {code} (prénom commençant "
    "par {initial}) le {date}. Pouvez-vous nous dire ce qu'il en est ? Une réponse suffit :\n"
    "• sur Telegram : {telegram_link}"
    "{web_line}\n"
    "Lien à usage unique, valable jusqu'au {expires}."
)
ASK_PARTNER_NOTE: Final = (
    "Message ci-dessus à transférer à votre contact chez {partner} pour {person} (ou copiez un "
    "lien).{email_line}\n"
    "Le partenaire ne verra que le code {code}, l'initiale du prénom, l'objet, la modalité et "
    "la date de l'orientation, et votre prénom. Je vous préviendrai de sa réponse."
)
ASK_PARTNER_WEB_LINE: Final = "\n• sans Telegram : {web_link}"
ASK_PARTNER_EMAIL_LINE: Final = (
    " Le lien web est aussi envoyé par e-mail à l'adresse de la fiche partenaire."
)
ASK_PARTNER_SHARE: Final = "Partager"
ASK_PARTNER_SHARE_TEXT: Final = "Pouvez-vous confirmer le suivi de cette orientation ?"
ASK_PARTNER_REVOKE: Final = "Annuler la demande"
ASK_PARTNER_REVOKED: Final = "Demande annulée : le lien ne fonctionne plus."
ASK_PARTNER_NO_USERNAME: Final = "(lien Telegram indisponible : le bot n'a pas encore démarré)"
PARTNER_ANSWERED: Final = (
    "{partner} a répondu pour {person} : {outcome}.\n"
    "Le suivi est enregistré ; s'il n'est pas juste, corrigez-le ici."
)
PARTNER_ANSWERED_APPOINTMENT: Final = (
    "{partner} a répondu pour {person} : rendez-vous fixé le {date}. "
    "Je vous rappellerai de faire le point après."
)
PARTNER_ANSWERED_LATE: Final = (
    "{partner} a répondu pour {person} : {outcome} (le suivi était déjà renseigné, "
    "rien n'a changé)."
)
PARTNER_REASON_SUFFIX: Final = " ({reason})"
# What the partner's correspondant·e sees (Telegram and web, same content).
CONFIRM_TITLE: Final = "Suivi d'une orientation"
CONFIRM_CARD: Final = (
    "{programme}\n"
    "{mediator}, médiateur·rice emploi, vous a orienté la personne {code} "
    "(prénom commençant par {initial}) le {date}.\n"
    "Objet : {purpose}\n"
    "Modalité : {mode}\n\n"
    "Que s'est-il passé ? Une réponse suffit."
)
CONFIRM_ANSWER_LABELS: Final = {
    "started": "Venu·e, accompagnement démarré",
    "came_no_follow": "Venu·e, sans suite",
    "appointment": "Rendez-vous fixé le…",
    "no_show": "Pas venu·e",
    "unreachable": "Injoignable",
    "not_for_us": "Pas pour nous…",
}
CONFIRM_REASON_LABELS: Final = {
    "not_eligible": "Hors de nos critères",
    "no_place": "Plus de place, liste d'attente",
    "other_service": "Relève d'un autre service",
    "already_supported": "Déjà suivi·e ailleurs",
    "other": "Autre raison",
}
CONFIRM_ASK_REASON: Final = "Pourquoi n'est-ce pas pour vous ?"
CONFIRM_ASK_DAY: Final = "Quel jour est le rendez-vous ?"
CONFIRM_DAY_LABEL: Final = "Date du rendez-vous"
CONFIRM_BACK: Final = "Retour"
CONFIRM_THANKS: Final = "Merci, c'est enregistré : {answer}. Vous pouvez fermer cette page."
CONFIRM_THANKS_TITLE: Final = "Réponse enregistrée"
CONFIRM_WEB_APPOINTMENT: Final = "Un rendez-vous est fixé"
CONFIRM_WEB_APPOINTMENT_SEND: Final = "Enregistrer ce rendez-vous"
CONFIRM_WEB_NOT_FOR_US: Final = "Ce n'est pas pour nous"
CONFIRM_WEB_NOT_FOR_US_SEND: Final = "Envoyer cette réponse"
CONFIRM_REFUSED: Final = {
    "answered": "Déjà répondu : ce lien a servi. Merci !",
    "expired": "Ce lien a expiré. La personne qui vous l'a envoyé peut en demander un nouveau.",
    "revoked": "Ce lien a été annulé par l'équipe.",
    "settled": "Ce suivi est déjà renseigné par l'équipe. Merci !",
    "unknown": "Ce lien n'est pas valable. Vérifiez qu'il est complet.",
}
CONFIRM_TOO_MANY: Final = "Trop d'essais. Réessayez dans une minute."
CONFIRM_BAD_FORM: Final = "Le formulaire a expiré. Rouvrez le lien et répondez à nouveau."
CONFIRM_EMAIL_SUBJECT: Final = "Suivi d'une orientation AVEQ ({code})"
CONFIRM_EMAIL_BODY: Final = (
    "Bonjour,\n\n"
    "{mediator}, médiateur·rice emploi du programme AVEQ, vous a orienté la personne {code} "
    "le {date}. Pouvez-vous nous dire ce qu'il en est ? Une réponse suffit :\n\n"
    "{link}\n\n"
    "Le lien est valable jusqu'au {expires} et ne sert qu'une fois.\n\n"
    "Merci,\nL'équipe AVEQ\n"
)
DIGEST_PARTNER_CONFIRMED: Final = (
    "{count} suivi confirmé par les partenaires cette semaine",
    "{count} suivis confirmés par les partenaires cette semaine",
)
COMMITTEE_CONFIRMATIONS: Final = (
    "\n\nConfirmations par le partenaire : {sent}, {answered}, "
    "délai médian {median}.\nIssues données par le partenaire : {by_partner}.\n"
    "Issues données par l'équipe : {by_team}."
)
COMMITTEE_CONFIRMATIONS_SENT: Final = ("{count} demande", "{count} demandes")
COMMITTEE_CONFIRMATIONS_ANSWERED: Final = ("{count} réponse", "{count} réponses")
COMMITTEE_CONFIRMATIONS_NO_MEDIAN: Final = "–"
COMMITTEE_CONFIRMATIONS_DAYS: Final = "{days} j"
COMMITTEE_SHEET_CONFIRMATIONS: Final = "Confirmations"
COMMITTEE_CONFIRMATION_HEADERS: Final = (
    "Partenaire", "Demandes de confirmation envoyées", "Réponses du partenaire",
    "Part des demandes ayant reçu une réponse", "Délai médian de réponse (jours)",
    "Issues données par le partenaire", "Issues données par l'équipe",
    "Part des issues données par le partenaire",
)  # fmt: skip
# --- Coordinators' outputs (issue 15): follow-ups, digest, targets, periods, exports ------
# « En retard » has one meaning everywhere: a follow-up whose date has passed without an
# answer. « Sans réponse après deux relances » is a second, narrower figure.
REPORT_LATE: Final = (
    "Suivis en retard (date passée, sans réponse) : {parts} · {pending} en attente"
)
REPORT_LATE_NONE: Final = "Suivis en retard : aucun · {pending} en attente"
REPORT_LATE_PART: Final = "{name} {late}"
REPORT_UNANSWERED: Final = "dont sans réponse après deux relances : {count}"

# The weekly digest: a first message that fits one phone screen (900 characters at most),
# the breakdowns behind its buttons.
DIGEST_TITLE: Final = "Bonjour ! Le point AVEQ de la semaine du {start} au {end}"
DIGEST_WEEK_LINE: Final = "📈 Semaine : {engaged}, {informed}, {oriented}, {exits}."
DIGEST_WEEK_EVENTS: Final = (
    "🎪 Événements : {count} · participant·es : {attendees} · changements de situation : "
    "{changed}."
)
DIGEST_YEAR_LINE: Final = (
    "🎯 {year} : {done} / {target} accrochées ({share}) · rythme nécessaire : "
    "{pace} par semaine d'ici au 31/12."
)
DIGEST_YEAR_REACHED: Final = "🎯 Objectif de l'année atteint : {done} / {target} ({share})."
DIGEST_NEEDS_YOU: Final = "\nÀ voir :"
DIGEST_ALL_CLEAR: Final = "\nRien d'urgent : aucun suivi en retard, aucun événement cette semaine."
DIGEST_LATE: Final = "• Suivis en retard : {parts} (/suivis)"
DIGEST_EVENTS_HEADER: Final = "• Événements cette semaine ({count}) :"
DIGEST_EVENT: Final = "  – {when} · {title} · {neighbourhood}"
DIGEST_EVENTS_MORE: Final = "  – et {count} de plus : bouton « Événements »"
DIGEST_FOOTER: Final = "\nLe détail : boutons ci-dessous."
DIGEST_BUTTONS: Final = {
    "nbh": "Par quartier",
    "med": "Par médiateur·rice",
    "late": "Suivis en retard",
    "events": "Événements",
}
DIGEST_NBH_TITLE: Final = "📍 Par quartier · semaine du {start} au {end}, et l'année à ce jour"
DIGEST_NBH_LINE: Final = "• {name} : {week} cette semaine, {year} dans l'année"
DIGEST_TARGET_PART: Final = " · objectif {target} ({share}), rythme nécessaire {pace}/semaine"
DIGEST_MED_TITLE: Final = (
    "👥 Par médiateur·rice · semaine du {start} au {end}, et l'année à ce jour"
)
DIGEST_MED_LINE: Final = "• {name} : {week} cette semaine, {year} dans l'année"
DIGEST_SHARE_PART: Final = " · sa part {target} ({share}), rythme nécessaire {pace}/semaine"
DIGEST_MED_LATE: Final = " · en retard : {late}"
DIGEST_LATE_TITLE: Final = "⏰ Suivis en retard le {at} (date passée, sans réponse) :"
DIGEST_LATE_LINE: Final = (
    "• {name} : {late} en retard sur {pending} en attente, "
    "dont {unanswered} sans réponse après deux relances"
)
DIGEST_LATE_NONE: Final = "Aucun suivi en retard."
DIGEST_LATE_FOOTER: Final = "Chacun·e les retrouve avec /suivis."
DIGEST_EVENTS_TITLE: Final = "🎪 Événements de cette semaine :"
DIGEST_NO_EVENT: Final = "aucun"
DIGEST_PAST_EVENTS: Final = "\nSemaine du {start} au {end} :"
CHART_TITLE: Final = "Accrochages {year} : cumul et objectif"
CHART_TARGET: Final = "Rythme de l'objectif ({target}/an)"
CHART_CUMULATIVE: Final = "Cumul réalisé"
CHART_X_AXIS: Final = "Mois ({year})"
CHART_Y_AXIS: Final = "Personnes accrochées"
CHART_AREAS_TITLE: Final = "Par quartier, depuis le 1er janvier {year}"
CHART_AREAS_AXIS: Final = "Personnes accrochées dans l'année"
CHART_AREA_TARGET: Final = "/ obj. {target}"
CHART_STATUS: Final = "{done} au {day} · selon le rythme de l'objectif : {pace}"
CHART_CAPTION: Final = "Cumul de l'année face au rythme de l'objectif, et chaque quartier."
# Targets: the team's, a neighbourhood's own (or none), a mediator's share.
REPORT_NO_TARGET: Final = "Dans l'année : {done} (pas d'objectif propre)"

# The period step of /stats, /export and /comite.
PERIOD_PRESETS: Final = {
    "week": "Cette semaine",
    "month": "Ce mois",
    "last_month": "Le mois dernier",
    "last_quarter": "Le trimestre dernier",
    "year": "Cette année",
    "last_year": "L'année dernière",
    "all": "Depuis le début",
}
PERIOD_HINT: Final = "Ou écrivez-la : 01/01/2026-31/03/2026, T1 2026, mars 2026 ou 2025."
PERIOD_ERRORS: Final = {
    "period_format": "Je n'ai pas compris cette période.",
    "period_date": "La date {day} n'existe pas.",
    "period_order": "La fin de la période est avant son début.",
    "period_year": "L'année doit être entre {first} et {last}.",
}
PERIOD_EXAMPLES: Final = (
    "\nExemples : 01/01/2026-31/03/2026, T1 2026, mars 2026, 2025. Ou touchez un bouton."
)
DOMAIN_ERRORS["period_invalid"] = "{reason}"  # one of PERIOD_ERRORS, with PERIOD_EXAMPLES

# The funders' export: workbook « Synthèse » (cover and O2R figures), « Définitions », tables.
EXPORT_PREPARING: Final = (
    "Préparation de l'export du {start} au {end}… Les fichiers arrivent dans un instant ; "
    "vous pouvez continuer à utiliser le bot."
)
EXPORT_FAILED: Final = (
    "⚠️ L'export du {start} au {end} n'a pas pu être préparé. Réessayez avec /export ; si "
    "cela se reproduit, prévenez la personne qui administre le bot."
)
EXPORT_CAPTION_XLSX: Final = (
    "Export AVEQ du {start} au {end}, généré le {generated} : tableur pour les financeurs "
    "(données pseudonymisées)."
)
EXPORT_CAPTION_ZIP: Final = (
    "Les mêmes tableaux en CSV (séparateur « ; », virgule décimale), du {start} au {end}, "
    "générés le {generated}."
)
EXPORT_AUDIT_SUBJECT: Final = "du {start} au {end}"
EXPORT_PERIOD_LABEL: Final = "du {start} au {end}"
EXPORT_UNKNOWN: Final = "non renseigné"
EXPORT_UNKNOWN_CODE: Final = "autre ({code})"
EXPORT_PENDING: Final = "en attente"
EXPORT_WHOLE_PERIOD: Final = "du {start} au {end}"
EXPORT_NOT_ASKED: Final = "sans objet (non inscrit·e à France Travail)"
EXPORT_SHEET_SUMMARY: Final = "Synthèse"
EXPORT_SHEET_DEFINITIONS: Final = "Définitions"
SUMMARY_HEADERS: Final = ("Indicateur", "Nombre", "Part", "Part de")
SUMMARY_PROGRAMME: Final = "Programme AVEQ — Aller Vers l'Emploi dans les Quartiers (Paris)"
SUMMARY_OPERATOR: Final = "Opérateur"
SUMMARY_FRAME: Final = "Cadre"
SUMMARY_FRAME_VALUE: Final = (
    "Offre de Repérage et de Remobilisation (O2R), loi pour le plein emploi du 18/12/2023"
)
SUMMARY_PERIOD: Final = "Période"
SUMMARY_GENERATED: Final = "Date de génération"
SUMMARY_BASE_ENGAGED: Final = "des personnes accrochées"
SUMMARY_BASE_ORIENTATIONS: Final = "des orientations"
SUMMARY_BASE_KNOWN: Final = "des issues connues"
SUMMARY_BASE_EXITS: Final = "des sorties"
SUMMARY_REACH: Final = "Repérage et accrochage"
SUMMARY_INFORMED: Final = "Personnes informées"
SUMMARY_ENGAGED: Final = "Nouvelles personnes accrochées"
SUMMARY_SEX: Final = "Personnes accrochées par sexe"
SUMMARY_AGE: Final = "Personnes accrochées par âge"
SUMMARY_RESIDENCE: Final = "Personnes accrochées par lieu de résidence"
SUMMARY_CHANNEL: Final = "Personnes accrochées par canal de repérage"
SUMMARY_BARRIERS: Final = "Freins (plusieurs par personne)"
SUMMARY_REGISTERED: Final = "Inscription à France Travail"
SUMMARY_REFERENT: Final = (
    "Contact avec un·e référent·e du Réseau pour l'emploi depuis moins de 5 mois"
)
SUMMARY_RSA: Final = "Bénéficiaires du RSA"
SUMMARY_PRIORITY: Final = "Public prioritaire O2R"
SUMMARY_O2R_PRIORITY: Final = (
    "Personnes non inscrites, ou inscrites sans contact référent·e depuis 5 mois"
)
SUMMARY_ORIENTATIONS: Final = "Orientations"
SUMMARY_ORIENTATIONS_TOTAL: Final = "Orientations faites"
SUMMARY_TO: Final = "vers : {label}"
SUMMARY_FOR: Final = "pour : {label}"
SUMMARY_ACCOMPANIED: Final = "Suites des orientations"
SUMMARY_STARTED: Final = "Accompagnements démarrés"
SUMMARY_CAME: Final = "Personnes venues au rendez-vous"
SUMMARY_NO_SHOW: Final = "Personnes absentes au rendez-vous"
SUMMARY_KNOWN: Final = "Orientations dont l'issue est connue"
SUMMARY_EXITS: Final = "Sorties"
SUMMARY_EXITS_TOTAL: Final = "Sorties (médiations closes)"
SUMMARY_EVENTS: Final = "Événements"
SUMMARY_EVENTS_TOTAL: Final = "Événements organisés"
SUMMARY_ATTENDEES: Final = "Participant·es"
SUMMARY_CHANGED: Final = "Changements de situation après un événement"
SUMMARY_FOLLOWUPS: Final = "Suivis des orientations, le {at}"
SUMMARY_PENDING: Final = "Suivis en attente"
SUMMARY_LATE: Final = "Suivis en retard (date passée, sans réponse)"
SUMMARY_UNANSWERED: Final = "dont sans réponse après deux relances"
DEFINITION_HEADERS: Final = ("Indicateur", "Comment il est compté")
EXPORT_DEFINITIONS: Final = {
    "Période": "Du premier au dernier jour indiqués, inclus, à l'heure de Paris.",
    "Personnes informées": (
        "Somme des personnes informées déclarées par les médiateur·rices lors des actions de "
        "repérage (tours de rue, permanences, animations…) datées dans la période. Ce sont des "
        "comptes : aucune identité n'est enregistrée."
    ),
    "Nouvelles personnes accrochées": (
        "Personnes qui ont accepté d'être suivies et dont la date d'accrochage est dans la "
        "période. Une personne n'est comptée qu'une fois."
    ),
    "Part": (
        "Nombre rapporté à la base indiquée dans la colonne « Part de » (personnes accrochées "
        "de la période, orientations de la période, issues connues ou sorties)."
    ),
    "Sexe, âge, résidence, canal de repérage": (
        "Tels que déclarés à l'accrochage. Résidence : QPV, QVA (quartier de veille active), "
        "proximité d'un QPV, autre."
    ),
    "Freins": ("Une personne peut en avoir plusieurs : la somme des parts peut dépasser 100 %."),
    "Inscription à France Travail": (
        "Réponse de la personne à l'accrochage (oui, non, ne sait pas)."
    ),
    "Contact référent·e < 5 mois": (
        "La personne a eu un contact avec un·e référent·e du Réseau pour l'emploi au cours des "
        "5 derniers mois, à l'accrochage."
    ),
    "Public prioritaire O2R": (
        "Personnes accrochées non inscrites à France Travail, ou inscrites sans contact avec un·e "
        "référent·e depuis 5 mois (arrêté du 26 juin 2024)."
    ),
    "Bénéficiaires du RSA": "Réponse de la personne à l'accrochage.",
    "Orientations": (
        "Mises en relation avec un partenaire faites dans la période, par catégorie de "
        "partenaire et par objet. Une personne peut avoir plusieurs orientations."
    ),
    "Accompagnements démarrés": (
        "Orientations de la période dont le suivi a établi que la personne est venue et que "
        "l'accompagnement a démarré ; rapporté aux orientations dont l'issue est connue."
    ),
    "Sorties": "Médiations closes dans la période, par motif.",
    "Événements": (
        "Événements datés dans la période ; participant·es : inscrit·es venu·es et personnes "
        "venues sans inscription ; changements de situation relevés après l'événement."
    ),
    "Suivis en retard": (
        "Orientations sans issue dont la date de point est passée sans réponse, à la date de "
        "génération ; « sans réponse après deux relances » en est une partie."
    ),
    "Codes des personnes": (
        "Les personnes n'apparaissent que par un code (P-0042) : ni nom, ni téléphone, ni note."
    ),
}
EXPORT_INDICATOR_HEADERS: Final = (
    "Période",
    "Périmètre",
    "Personnes informées",
    "Nouvelles personnes accrochées",
    "dont moins de 26 ans",
    "dont femmes",
    "Part de femmes",
    "Inscrit·es à France Travail",
    "Part d'inscrit·es à France Travail",
    "En contact avec un·e référent·e depuis moins de 5 mois",
    "Public prioritaire O2R",
    "Orientations",
    "Accompagnements démarrés",
    "Absences au rendez-vous",
    "Sorties",
    "Événements",
    "Participant·es aux événements",
    "Changements de situation après un événement",
)
EXPORT_PEOPLE_HEADERS: Final = (
    "Code",
    "Quartier",
    "Date d'accrochage",
    "Sexe",
    "Âge",
    "Résidence",
    "Canal de repérage",
    "Freins",
    "Inscrit·e France Travail",
    "Contact référent·e < 5 mois",
    "RSA",
    "Statut",
    "Date de sortie",
    "Motif de sortie",
)
EXPORT_ORIENTATION_HEADERS: Final = (
    "N°",
    "Personne",
    "Partenaire",
    "Catégorie de partenaire",
    "Objet",
    "Modalité",
    "Date d'orientation",
    "Date du rendez-vous",
    "Délai avant rendez-vous (jours)",
    "Issue",
    "Date de l'issue",
    "Délai avant issue (jours)",
    "Issue donnée par",
)
EXPORT_OUTCOME_GIVEN_BY_PARTNER: Final = "le partenaire"
EXPORT_OUTCOME_GIVEN_BY_TEAM: Final = "l'équipe"
EXPORT_EXIT_HEADERS: Final = ("Personne", "Quartier", "Date de sortie", "Motif")
EXPORT_INFORMED_HEADERS: Final = ("Date", "Quartier", "Action", "Personnes informées")

# Invitations that travel: forwardable, a « Partager » button, the inviter told of the join,
# pending ones listed under /equipe and revocable.
INVITE_SHARE: Final = "📤 Partager"
INVITE_SHARE_TEXT: Final = "Votre invitation à rejoindre l'assistant AVEQ"
FORWARD_BELOW: Final = "✓ C'est noté : le message à transmettre suit."
INVITE_JOINED: Final = "✅ {name} a rejoint l'équipe ({role}) avec votre invitation."
PENDING_HEADER: Final = "Invitations en attente ({count}) :"
PENDING_LINE: Final = "• {name} : {role}, valable jusqu'au {expires}"
PENDING_REVOKE: Final = "Retirer l'invitation de {name}"
PENDING_CONFIRM: Final = "Retirer l'invitation de {name} ? Son lien ne fonctionnera plus."
PENDING_CONFIRM_YES: Final = "Oui, retirer"
PENDING_REVOKED: Final = "L'invitation de {name} est retirée : son lien ne fonctionne plus."

DOMAIN_ERRORS["search_invalid"] = "Tapez quelques lettres d'un prénom ou un code (P-0012)."

# --- /orienter, /contact, /sortie as forms (issue 14) ---------------------------------------
DOMAIN_ERRORS.update(
    {
        "nobody_followed": PICK_PERSON_EMPTY,
        "person_none": PICK_PERSON_NONE,
        "appointment_invalid": ORIENT_APPOINTMENT_INVALID,
        "answer_already": ANSWER_ALREADY,
    }
)
ORIENT_FIELD_NAMES: Final = {
    "person": "Personne",
    "category": "Type de partenaire",
    "partner": "Partenaire",
    "new_partner": "Nouveau partenaire",
    "purpose": "Objet",
    "mode": "Modalité",
    "appointment": "Rendez-vous",
    "note": "Note",
}
EXIT_FIELD_NAMES: Final = {
    "person": "Personne",
    "reason": "Raison",
    "date": "Date de sortie",
}
