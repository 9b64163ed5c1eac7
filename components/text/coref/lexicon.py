"""Word lists the resolver uses for number, gender, animacy and person agreement.

Everything here is small, hand-curated and offline:

- `PRONOUNS`: the English personal, possessive and reflexive pronouns with their
  person, number, gender and animacy.
- `MALE_NAMES` / `FEMALE_NAMES`: common given names whose gender is unambiguous in
  English-language text (frequent names of the US Social Security and UK ONS lists over
  the last century, plus names frequent in Wikipedia biographies). Unisex names (Alex,
  Jordan, Taylor, Robin, Leslie...) are deliberately left out: an unknown gender agrees
  with both. NLTK's `names` corpus cannot be had offline, and no installed package
  ships a name list, hence this table.
- `MALE_NOUNS` / `FEMALE_NOUNS`: gendered role nouns (actress, father, king...).
- `HONORIFICS`: titles that give a gender (Mr., Mrs., Sir, Lady...).
- `ANIMATE_NOUNS` and `ANIMATE_SUFFIXES`: nouns for people; a common noun that is
  neither listed nor has a person suffix has unknown animacy.
"""

from __future__ import annotations

__all__ = [
    "ANIMATE_NOUNS",
    "ANIMATE_SUFFIXES",
    "FEMALE_NAMES",
    "FEMALE_NOUNS",
    "HONORIFICS",
    "INANIMATE_ENTITY_LABELS",
    "LOCATION_LABELS",
    "MALE_NAMES",
    "MALE_NOUNS",
    "NUMERIC_ENTITY_LABELS",
    "PRONOUNS",
    "PronounInfo",
    "SURNAME_LIKE_NAMES",
    "name_gender",
    "noun_animacy",
    "noun_gender",
]

from typing import NamedTuple


class PronounInfo(NamedTuple):
    """Agreement features of one pronoun form."""

    person: int  # 1, 2 or 3
    number: str  # "sg" | "pl" | "?"
    gender: str  # "m" | "f" | "n" | "?"
    animacy: str  # "anim" | "inan" | "?"
    case: str  # "nom" | "acc" | "poss" | "refl"


def _pronouns() -> dict[str, PronounInfo]:
    table: dict[str, PronounInfo] = {}
    rows = [
        # person, number, gender, animacy, forms by case
        (1, "sg", "?", "anim", {"nom": "i", "acc": "me", "poss": "my mine", "refl": "myself"}),
        (1, "pl", "?", "anim", {"nom": "we", "acc": "us", "poss": "our ours", "refl": "ourselves"}),
        (2, "?", "?", "anim", {"nom": "you", "poss": "your yours", "refl": "yourself yourselves"}),
        (3, "sg", "m", "anim", {"nom": "he", "acc": "him", "poss": "his", "refl": "himself"}),
        (3, "sg", "f", "anim", {"nom": "she", "acc": "her", "poss": "hers", "refl": "herself"}),
        (3, "sg", "n", "inan", {"nom": "it", "poss": "its", "refl": "itself"}),
        (
            3,
            "pl",
            "?",
            "?",
            {"nom": "they", "acc": "them", "poss": "their theirs", "refl": "themselves"},
        ),
    ]
    for person, number, gender, animacy, forms in rows:
        for case, words in forms.items():
            for word in words.split():
                table[word] = PronounInfo(person, number, gender, animacy, case)
    return table


PRONOUNS: dict[str, PronounInfo] = _pronouns()

# Entity labels that are never coreferent mentions (Lee et al. drop numeric entities).
NUMERIC_ENTITY_LABELS = frozenset(
    {"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"}
)
LOCATION_LABELS = frozenset({"GPE", "LOC", "FAC"})
INANIMATE_ENTITY_LABELS = frozenset(
    {"GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)

HONORIFICS: dict[str, str] = {
    **dict.fromkeys(
        "mr mr. sir lord king prince duke earl baron count emperor pope father brother "
        "uncle monsieur herr senor señor don master sheikh".split(),
        "m",
    ),
    **dict.fromkeys(
        "mrs mrs. ms ms. miss lady queen princess duchess countess baroness dame madam "
        "madame mme mme. mlle mother sister aunt frau senora señora mademoiselle empress".split(),
        "f",
    ),
}

MALE_NOUNS = frozenset(
    """
    man men boy boys gentleman gentlemen guy husband father dad daddy son brother uncle
    nephew grandfather grandson king prince emperor duke earl baron lord sir monk priest
    actor waiter steward host hero widower bachelor boyfriend fiance groom bridegroom
    stepfather stepson godfather patriarch businessman chairman congressman spokesman
    sportsman fisherman policeman fireman countryman kinsman horseman nobleman gunman
    headmaster schoolboy lad sultan tsar czar abbot pope bishop cardinal
    """.split()
)
FEMALE_NOUNS = frozenset(
    """
    woman women girl girls lady ladies wife mother mom mum mommy daughter sister aunt
    niece grandmother granddaughter queen princess empress duchess countess baroness
    actress waitress stewardess hostess heroine widow spinster girlfriend fiancee bride
    stepmother stepdaughter godmother matriarch businesswoman chairwoman congresswoman
    spokeswoman sportswoman policewoman countrywoman noblewoman headmistress schoolgirl
    lass nun maid maiden mistress madam housewife ballerina diva sorceress goddess
    """.split()
)

ANIMATE_NOUNS = frozenset(
    """
    person people persons individual child children kid kids baby infant adult teenager
    friend friends enemy colleague neighbour neighbor partner spouse parent parents
    family relative cousin sibling twin twins member members leader leaders chief boss
    president minister chancellor premier senator governor mayor official officials
    diplomat ambassador secretary candidate politician delegate envoy spokesperson
    officer soldier soldiers troops general captain colonel sergeant lieutenant commander
    admiral marshal police detective agent spy guard pilot driver sailor crew
    doctor nurse surgeon patient physician dentist scientist physicist chemist biologist
    researcher professor teacher student students pupil pupils scholar author writer
    poet novelist journalist reporter editor critic artist painter sculptor singer
    musician composer pianist guitarist drummer dancer actor actress director producer
    player players athlete coach captain champion winner loser fan fans audience
    judge lawyer attorney prosecutor witness victim suspect defendant prisoner inmate
    killer murderer thief criminal gunman terrorist militant rebel rebels refugee
    worker workers employee employer staff manager executive founder owner investor
    pioneer mountaineer trainee refugee nominee appointee
    analyst economist banker trader farmer engineer architect designer chef cook
    customer client user resident residents citizen citizens villager villagers
    native immigrant tourist visitor passenger traveller traveler stranger guest
    king queen prince princess emperor monarch ruler priest bishop pope monk nun
    saint god goddess hero heroine character narrator protagonist man woman boy girl
    heir widow orphan crowd mob volunteer activist protester protesters demonstrator
    """.split()
)

# Suffixes of nouns that name people (pianist, politician, chairwoman, congressmen).
ANIMATE_SUFFIXES = ("ist", "ian", "sman", "smen", "woman", "women")

MALE_NAMES = frozenset(
    """
    aaron abraham adam adrian ahmed alan albert alberto alexander alfred ali allen alvin
    amir andre andrew andy angelo anthony antonio archibald arnold arthur august augustus
    barry ben benjamin bernard bill billy bob bobby boris brad bradley brandon brendan
    brett brian bruce bruno bryan byron caleb calvin carl carlos cecil cedric charles
    charlie chester christian christopher clarence claude clifford clint clyde colin
    conrad craig curtis cyril dale damian dan daniel danny darren dave david dean dennis
    derek desmond diego dmitri dominic don donald douglas duncan dustin dwight earl eddie
    edgar edmund eduardo edward edwin elijah elliott elmer emil emmanuel enrique eric
    ernest ernesto erwin ethan eugene evan felix fernando floyd francesco francis
    francisco frank franklin fred frederick fritz gabriel gareth gary gavin geoffrey
    george gerald gerard gilbert giovanni giuseppe glenn gordon graham grant greg gregory
    guillermo gustav guy hamish hank hans harold harry harvey hector henry herbert herman
    howard hubert hugh hugo ian igor isaac ivan jack jacob jake james jason javier jeff
    jeffrey jeremy jerome jerry jesse jim jimmy joe joel johann johannes john johnny
    jonathan jorge jose joseph joshua juan julian julius justin karl keith ken kenneth
    kevin kurt kyle lance larry lawrence leo leon leonard leonardo leroy lewis lionel
    lloyd louis luca lucas luigi luis luke malcolm manuel marcel marco marcus mario mark
    martin marvin matthew maurice max maxwell melvin michael miguel mike miles mitchell
    mohammed muhammad morris moses nathan nathaniel neil nelson nicholas nick nigel noah
    norman oliver omar oscar otto owen pablo patrick paul pedro peter philip phillip
    pierre quentin rafael ralph ramon randall randy raphael raul ray raymond reginald
    rené rex ricardo richard rick ricky robert roberto rodney roger roland ronald ronnie
    roy rudolf rudolph russell ryan salvador sam samuel scott sean sebastian sergei sergio
    seth shane simon stanley stefan stephen steve steven stuart ted terence theodore
    thomas tim timothy toby todd tom tommy tony travis trevor troy tyler victor vincent
    vladimir wallace walter warren wayne wesley wilbur wilfred will william willie
    wilson winston wolfgang xavier yusuf zachary
    """.split()
)

FEMALE_NAMES = frozenset(
    """
    abigail ada adele adriana agatha agnes aileen alexandra alice alicia alison amanda
    amber amelia amy ana anastasia andrea angela angelina anita ann anna anne annette
    annie antonia april arlene audrey ava barbara beatrice becky belinda bella bernadette
    bertha beth bethany betty beverly bianca bonnie brenda bridget brittany camilla
    candice carla carmen carol caroline carolyn catherine cathy cecilia celia charlotte
    cheryl chloe christina christine cindy claire clara claudia colleen connie constance
    cora cynthia daisy daphne darlene dawn debbie deborah debra delia denise diana diane
    dolores donna doris dorothy edith edna eileen elaine eleanor elena elisa elisabeth
    eliza elizabeth ella ellen eloise elsa elsie emily emma erica erin esther ethel eva
    evelyn fiona flora florence frances francesca gabriela gabrielle gail georgia
    geraldine gertrude gillian gina giulia gladys gloria grace gwen gwendolyn hannah
    harriet hazel heather heidi helen helena hilda holly ida ingrid irene iris isabel
    isabella isabelle jacqueline jane janet janice jasmine jean jeanne jennifer jenny
    jessica jill joan joanna joanne josephine joy joyce judith judy julia julie juliet
    june karen katherine kathleen kathryn kathy katie katrina kay kelly kim kimberly
    kristen kristin laura lauren leah lena lillian lily linda lisa lois lorna lorraine
    louise lucia lucille lucy lydia lynn mabel madeleine madeline maggie margaret
    margarita maria marian marie marilyn marion marjorie martha mary maureen megan
    melanie melissa mercedes meredith mia michelle mildred miranda miriam molly monica
    muriel nadia nancy naomi natalie natasha nellie nicole nina nora norma olga olive
    olivia paige pamela patricia paula pauline pearl peggy penelope phoebe phyllis
    priscilla rachel rebecca regina renee rita roberta rosa rosalind rose rosemary ruby
    ruth sabrina sally samantha sandra sara sarah selena shannon sharon sheila shirley
    sofia sonia sophia sophie stella stephanie susan susanna suzanne sylvia tamara tanya
    teresa theresa tiffany tina tracy ursula valerie vanessa vera veronica victoria
    viola violet virginia vivian wanda wendy wilma yvonne zoe
    """.split()
)


# Given names of the tables above that are as common as surnames: alone, they say nothing.
SURNAME_LIKE_NAMES = frozenset(
    """
    allen gordon wilson nelson grant scott lewis russell howard wallace warren morris
    mitchell curtis dean craig bruce douglas stanley harvey lloyd graham thomas james
    martin lee ray jackson johnson henry arthur francis george owen neil carl marshall
    lawrence lance wayne wesley ross roy glenn kelly lynn rose grace joy pearl june
    holly iris hazel ruby may olive hope
    """.split()
)


def name_gender(first_name: str) -> str:
    """Gender of a given name: "m", "f" or "?" when unknown or ambiguous."""
    key = first_name.lower().rstrip(".")
    if key in MALE_NAMES:
        return "m"
    if key in FEMALE_NAMES:
        return "f"
    return "?"


def _singular(noun: str) -> str:
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ses", "xes", "ches", "shes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith("ss"):
        return noun[:-1]
    return noun


def noun_gender(noun: str) -> str:
    """Gender of a common noun naming a person (actress -> "f"), else "?"."""
    for key in (noun.lower(), _singular(noun.lower())):
        if key in MALE_NOUNS:
            return "m"
        if key in FEMALE_NOUNS:
            return "f"
    return "?"


def noun_animacy(noun: str) -> str:
    """ "anim" for nouns naming people (listed, gendered, or with a person suffix), else "?".

    Plurals are looked up by their singular ("ministers" -> "minister")."""
    for key in (noun.lower(), _singular(noun.lower())):
        if key in ANIMATE_NOUNS or key in MALE_NOUNS or key in FEMALE_NOUNS:
            return "anim"
        if len(key) > 5 and key.endswith(ANIMATE_SUFFIXES):
            return "anim"
    return "?"
