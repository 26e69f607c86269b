"""Checks that run before retrieval: unreadable input, emergencies, scope, dose questions, injections.

None of these ever calls a model: a refusal costs nothing and cannot be talked around.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Container, Iterable
from dataclasses import dataclass

from magbot.text import words

DISCLAIMER = (
    "General information from published studies, not medical advice. "
    "Talk to a doctor or pharmacist about your own symptoms and treatment."
)

EMERGENCY = (
    "This may be a medical emergency. Call your local emergency number now (911 in the US, 999 in the UK, "
    "112 in the EU) or go to the nearest emergency department. Do not wait for an online answer, and do "
    "not drive yourself if you feel unwell."
)
CRISIS = (
    "You deserve support right now. If you might act on thoughts of harming yourself, call your local "
    "emergency number (911, 999 or 112) immediately. You can also call or text 988 (Suicide and Crisis "
    "Lifeline, US) or call Samaritans on 116 123 (UK and Ireland), any time, free. If you can, tell "
    "someone near you how you feel."
)

_URGENT_PATTERNS = [
    # stroke signs
    r"\b(face|mouth|smile)\b(\s+\w+){0,4}\s+(droop|droopy|drooping|drooped|sagging|lopsided|numb)\b",
    r"\b(face|mouth|smile)\b(\s+\w+){0,3}\s+(won'?t|can'?t|doesn'?t|isn'?t) (move|moving|work|working)\b",
    r"\b(arm|hand|leg) (just |suddenly )?(went|gone|going|has gone|is) (all )?(heavy|floppy|limp|useless)\b",
    r"\bslurr?(ed|ing|y)\b",
    r"\b(speech|words|talking) (is |are |sounds? |has gone |went |all )*(off|garbled|jumbled|muddled|mixed up|strange"
    r"|weird|funny)\b",
    r"\b(can'?t|cannot|couldn'?t|could not) (lift|raise|move) (my|his|her|their) (right |left )?(arm|leg|hand)s?\b",
    r"\b(vision|sight|eye)\b(\s+\w+){0,4}\s+(went|gone|going|has gone|turned) (black|dark|blank)\b"
    r"|\b(lost|losing) (the |my |his |her )?(vision|sight)\b|\bcan'?t see out of\b",
    r"\bworst headache\b|\bthunderclap headache\b",
    r"\bcan'?t (speak|talk|lift my arm|see)\b",
    r"\b(having|think i'?m having|is having|she'?s having|he'?s having) a stroke\b",
    r"\bstroke (symptoms|signs) (right )?now\b",
    # chest pain and breathing
    r"\bchest (pain|pains|tightness|pressure)\b",
    r"\bchest (is |feels |keeps |has gone |going )?(really |so |very )?"
    r"(hurts?|hurting|aches?|aching|killing|tight|heavy|squeez\w*|crush\w*)\b|\bpain in (my|his|her|their|the) chest\b",
    r"\b(crushing|tight) chest\b",
    r"\b(?<!nearly had a )(?<!almost had a )(?<!gave me a )(?<!give me a )(?<!gave her a )(?<!gave him a )"
    r"heart attack\b",  # not the figure of speech
    r"\bcan'?t breathe\b",
    r"\b(trouble|difficulty|struggling) breathing\b",
    r"\bshort(ness)? of breath\b",
    # overdose
    r"\boverdos(e|ed|ing)\b",
    r"\btook (too many|too much|a whole|the whole|all (my|the|of|her|his|their))",
    r"\b(way|well|far) (over|above|past) the (limit|max|maximum|recommended|safe)",
    # many tablets, then symptoms: "took like 3 times my pills ... now confused and my heart is going slow"
    r"\b(took|taken|had|swallowed)\b[^.?!]{0,30}\b(times (my|the|his|her)|double|triple|loads|a load|handful|lots"
    r"|way more|too many|extra)\b(?=.*\b(confus\w*|drowsy|(really|very|so) sleepy"
    r"|can'?t (stay awake|keep (my|his|her) eyes open)"
    r"|heart (is |feels )?(going |beating )?(slow|racing|weird)|vomit\w*|throwing up|passing out)\b)",
    r"\b(swallowed|ate|taken) (a|the) (whole|entire) (bottle|pack|box)",
    r"\bpoison(ed|ing)\b",
    # asking what amount would kill (a crisis unless asked for a course or long ago)
    r"\b(lethal|fatal|deadly) (dose|amount)|\b(how (much|many)|amount|dose)\b[^.?!]{0,40}\b(would|will|could|to) "
    r"(kill|be (fatal|lethal|deadly))\b",
    # suicidal thoughts (not "the suicide disease", a nickname of trigeminal neuralgia)
    r"\bsuicid(?!e disease)",
    r"\bkill (myself|me)\b",
    r"\bend (my (own )?life|it all)\b",
    r"\bwant to die\b",
    r"\bself[- ]?harm",
    r"\bhurt myself\b",
    r"\bbetter off dead\b",
    r"\bno reason to live\b",
    # sudden weakness, collapse
    r"\bsudden(ly)? (weak|weakness|paraly|numb|can'?t move|collapsed|lost)",
    r"\bcan'?t (move|feel) (my )?(legs|arm|arms|leg|face)\b",
    r"\b(passed|passing) out\b",
    r"\bunconscious\b",
    r"\b(can'?t|cannot|barely|hardly|won'?t) (wake|rouse) (him|her|them|me|up)\b|\bhard to (wake|rouse)\b",
    r"\bcan'?t get (a |any )?(proper |sensible )?(answer|response|word|sense) out of (him|her|them)\b",
    # sudden confusion
    r"\A(?=.*\b(suddenly|all of a sudden|out of nowhere|since this (morning|afternoon)|at lunch"
    r"|(started|began|came on) (about |around )?(an?|\d+|a few|twenty|ten) (hours?|mins?|minutes) ago)\b)"
    r"(?=.*\b(confus\w*|talking nonsense|not making sense|making no sense|gibberish|muddled"
    r"|(doesn'?t|does not|didn'?t) know (what|where|who))\b)",
    r"\bfaint(ed|ing)\b",
    r"\bseizure",
    r"\b(having|had|has|in) (a )?(fit|fits)\b(?! (of|about|over|with|when))|\bconvuls|\bfitting\b",
    r"\b(i|he|she|they|we|mum|mom|dad|husband|wife|son|daughter|friend|partner|brother|sister|baby)"
    r" (just |has |have |suddenly )?collapsed\b",
    # loss of bladder or bowel control (cauda equina)
    r"\b(lost|losing|loss of) (control (of|over) )?(my )?(bladder|bowel)|\bno control (of|over) (my )?(bladder|bowel)",
    r"\b(bladder|bowel) control\b",
    r"\bcan'?t (control|hold) my (bladder|bowel|pee|urine|poo)",
    r"\b(wet|peed|pee'?d|pissed|soiled|pooed|pooped) (myself|my pants|my trousers|my knickers|the bed)\b",
    r"\bcan'?t feel (my |his |her )?(bum|bottom|backside|bum cheeks|groin|privates|genitals|crotch|saddle)\b",
    r"\bsaddle (numbness|anaesthesia|anesthesia)\b",
    r"\bnumb(ness)? (between (my|his|her) legs|in (my|the) groin"
    r"|a?round (my|his|her|the) (anus|genitals|bottom|bum|privates))",
    r"\bcan'?t (tell|feel) when (i|he|she) (need|needs) (a|to) (wee|pee|poo|go to the toilet)",
    # red flags that are a combination of symptoms (either order)
    # - low blood sugar: a diabetic who is confused or not making sense, and sweating or shaking
    r"\b(diabet\w*|type ?[12]|t[12]d|insulin)\b"
    r"(?=.*\b(confus\w*|not making sense|talking nonsense|making no sense|disorientated|disoriented)\b)"
    r"(?=.*\b(sweat\w*|shak\w*|clammy)\b)",
    # - or very drowsy / not answering
    r"\b(diabet\w*|type ?[12]|t[12]d|insulin)\b(?=.*\b((really|very|so) (drowsy|sleepy)|unresponsive"
    r"|not responding)\b)",
    # - cauda equina: cannot pass urine, with numbness or leg weakness
    r"\A(?=.*\b(can'?t|cannot|unable to|haven'?t been able to|not able to) (pee|wee|urinate|pass urine)\b)"
    r"(?=.*\b(numb\w*|weak\w*|can'?t feel)\b)",
    # - an infected foot wound in diabetes: black, smelly or oozing, with fever or diabetes named
    r"\A(?=.*\b(black|blackened|smells?|smelly|stinks?|stinking|pus|oozing)\b)(?=.*\b(sore|wound|ulcer|cut|blister)\b)"
    r"(?=.*\b(fever|temperature|shivering|shivery|chills|diabet\w*)\b)",
    # signs of magnesium toxicity
    r"\b(irregular|racing|slow) heart ?beat\b.*\bmagnesium\b|\bmagnesium\b.*\b(irregular|racing|slow) heart ?beat\b",
    r"\A(?=.*\bheart ?beat (is |feels |has gone |went |going )?(really |very |so )?(slow|irregular|erratic)\b)"
    r"(?=.*\b(magnesium|mag|\d+ ?mg|tablets|pills)\b)",
    # - a red, hot patch spreading, with a fever (a spreading infection)
    r"\A(?=.*\b(spread\w*|creeping|tracking|moving) (up|right up|to|along|further)\b)(?=.*\b(red\w*|hot|swollen)\b)"
    r"(?=.*\b(fever|temperature|shiver\w*|chills|rigors)\b)",
]
_URGENT = re.compile("|".join(f"(?:{p})" for p in _URGENT_PATTERNS), re.IGNORECASE)
_SELF_HARM = re.compile(
    r"\b(?:suicid(?!e disease)|kill(ing)? myself\b|kill me\b|end (my (own )?life|it all)\b|want to die|self[- ]?harm|"
    r"hurt(ing)? myself|"
    r"better off dead|no reason to live|better off without me|(don'?t|do not|never) (want to )?wake up|"
    r"(don'?t|do not) want to (be here|live|go on)|no point (in )?(living|going on|carrying on)|"
    r"(sav(ed|ing)|stockpil\w+|hoard\w*) [^.?!]{0,20}\b(pills|tablets|meds)\b|(pills|tablets|meds) (saved|stored) up|"
    r"(pills|tablets|meds) (put|set|hidden|stashed) (aside|away)|who gets my (things|stuff|belongings)|"
    r"(pills|tablets|meds) (all )?(lined|laid|counted|set) (up|out)|(lined|laid|counted) (up|out) (all )?(my |the )?"
    r"(pills|tablets|meds)|"
    r"(nobody|no one|no-one)( would| will|'d|'ll)( really| even)? (miss|notice) me|"
    r"said (all )?my goodbyes|(don'?t|do not|not) (plan|planning|expect|expecting) (on|to) be(ing)? (here|around)|"
    r"(sleep|go to sleep) and (not|never) wake|(tonight|today)('?s| is) the (night|day)\s*(?:[.!,]|$)|"
    r"(tonight|today)('?s| is) the (night|day) (that )?i (take|swallow) (them all|all of them|the lot|the whole lot"
    r"|everything|all my)|"
    r"(goodbye|farewell) (letters?|notes?)|"
    r"(wrote|written|writing|left) (goodbye |farewell |last )?(letters|notes) (to|for) (my|the|everyone|everybody|all)"
    r"\b|"
    r"((won'?t|will not|not going to)|(don'?t|do not) (think|expect) (i'?ll|i will|to)) be (around|here) (much longer"
    r"|for (much )?longer|for long|next week|tomorrow|by (tomorrow|the morning|morning|the weekend|next week))|"
    r"(bye|goodbye|farewell) (everyone|everybody|all|world)\b|"
    r"giv(e|ing|en) ((away )?(all )?(my|all my) (things|stuff|belongings|possessions) away"
    r"|away (all )?(my|all my) (things|stuff|belongings|possessions)))",
    re.IGNORECASE,
)
# A general question about a condition is not an emergency ("Does magnesium lower stroke risk?").
_GENERAL = re.compile(
    r"\b(risk|prevent|studies|study|research|associated|linked|link|in general|curiosity|curious|essay|assignment"
    r"|homework|exam|project|course|lecture|what happens if|signs of|symptoms of|what would the (signs|symptoms) be"
    r"|warning signs|cause|causes|side effects?|is it possible|possible to|can you)\b",
    re.IGNORECASE,
)
# Learning about emergencies, not having one: "on a first aid course we learned ...", "just curious".
_LEARNING = re.compile(
    r"\b(first aid|out of curiosity|just curious|hypothetically|learn(ed|t|ing) (about|that)|revising|course|lecture"
    r"|class|exam|homework|assignment|general question|asking generally|(usually|typically|normally) feels? like"
    r"|for (the |future )?future( reference)?|in (the )?future|(watch|look) out for"
    r"|nothing (is )?(going on|happening|wrong)( right)?( now)?"
    r"|what (are|were|would be) the (usual |main |typical |warning )?(signs|symptoms) (of|for))\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(
    r"\b(i|i'm|im|my|me|mine|we|our|he|she|his|her|mum|mom|dad|husband|wife|son|"
    r"daughter|friend|child|(?<!\bif )someone)\b",  # "what happens if someone takes too much" is nobody present
    re.IGNORECASE,
)

_INJECTION = re.compile(
    r"(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+|my\s+|previous\s+|prior\s+|above\s+)*"
    r"(instructions?|rules?|prompts?|guidelines?|context)(?:(?!\band\b)[^.?!:;])*[.?!:;]?|"
    r"\b(you are now|act as|pretend (to be|you are)|system prompt|developer mode|jailbreak"
    r"|new (admin |system )?instructions?)\b[^.?!:;]*[.?!:;]?",
    re.IGNORECASE,
)
_DOSE = re.compile(
    r"\b(how much (magnesium|mg|of it|should|do i|can i|is safe|to take)|how many (mg|milligrams?|pills|tablets"
    r"|capsules)|dose|doses|dosage|dosing|milligrams?|should i take|can i take|how often should)\b",
    re.IGNORECASE,
)

# Words that put a question within magbot's subject: magnesium, nerves, pain, diabetes, the studies.
# What magbot's subject is about: the body, conditions and what is measured (a question's own subject)...
CONDITION_TERMS = frozenset(
    """
    nerve nerves nervous neuropathy neuropathic neuropathies neuron neurons neural neurological
    polyneuropathy pain pains painful ache aching hurts sciatic sciatica diabetes diabetic diabetics
    glucose sugar insulin hba1c tingling numbness numb burning pins needles nmda regeneration
    regenerate regrow deficiency deficient back spine lumbar serum conduction axon axons schwann
    peripheral neuralgia shingles fibromyalgia cramps cramp migraine migraines headache muscle muscles
    """.split()
)
# ... and what is given or read about: magnesium, its forms and doses, medicines, research.
TOPIC_TERMS = CONDITION_TERMS | frozenset(
    """
    magnesium mg magnesia mineral minerals supplement supplements supplementation supplementing
    analgesic analgesia painkiller painkillers opioid opioids oxycodone pregabalin gabapentin study studies
    trial trials research evidence article source sources paper papers meta-analysis review reviews protocol
    rats rat mice mouse animal dose dosage doses oxide sulphate sulfate citrate glycinate chloride threonate
    epsom foods diet food
    """.split()
)
# ... of which these speak of the evidence or of supplements in general, not of what a question is about.
EVIDENCE_TERMS = frozenset(
    """
    supplement supplements supplementation supplementing study studies trial trials research evidence article
    source sources paper papers meta-analysis review reviews protocol
    """.split()
)
_SUBJECT_TERMS = TOPIC_TERMS - EVIDENCE_TERMS


@dataclass(frozen=True)
class Check:
    problem: str | None  # why the input is invalid, or None


def normalise(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw)
    return " ".join(text.split())


def validate(raw: object, max_chars: int) -> Check:
    """Reject input that is not a readable question; the message says what was wrong."""
    if not isinstance(raw, str):
        return Check("The question must be text.")
    if (
        "\x00" in raw
        or sum(1 for ch in raw if unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn") and ch not in "\n\r\t") > 0
    ):
        return Check("The question contains binary or unreadable characters. Please type it as plain text.")
    if "\ufffd" in raw:
        return Check("The question is not readable text (it looks like a file or a broken encoding).")
    text = normalise(raw)
    if not text:
        return Check("The question is empty. Please type a question about magnesium and nerve pain.")
    if len(text) > max_chars:
        return Check(
            f"The question is too long ({len(text)} characters; the limit is {max_chars}). "
            "Please shorten it to the question itself."
        )
    if not any(ch.isalnum() for ch in text):
        return Check("The question has no words in it. Please type a question about magnesium and nerve pain.")
    if len(words(text)) == 0:
        return Check("The question has no words magbot can read. Please ask in English.")
    return Check(None)


# Something that happened long ago and is not happening now is history, not an emergency.
_PAST = re.compile(
    r"\b((\d+|a|one|two|three|few|several|many|ten|some) )?(years?|months?|yrs?) (ago|back)\b"
    r"|\blast (year|summer|winter|month)|\bturned out (to be|it was)\b"
    r"|\b(back )?in (19|20)\d\d\b|\bback in the ('?|19|20)?\d0'?s\b|\bas a (child|kid|teenager|teen|baby|toddler)\b"
    r"|\bsince i was a (child|kid)\b"
    r"|\b(had|got|was|were)\b[^.;!?]{0,40}\bin (my|his|her|their) (teens|twenties|thirties|forties|[1-9]0'?s)\b"
    r"|\b(at (the )?age (of )?|aged )\d{1,2}\b|\bwhen (i|he|she|they) (was|were) (\d+|young|little)\b"
    r"|\bat (1[3-9]|[2-9]\d)\b(?!\s*(:|h\b|hrs?\b|hours|mins?\b|minutes|mg|%))",  # "a seizure at 19"
    re.IGNORECASE,
)
_NOW = re.compile(
    r"\b(right now|just now|suddenly|sudden|today|tonight|this (morning|afternoon|evening)|currently"
    r"|at the moment|minutes? ago|mins? ago|an? hour ago|hours ago|happening now)\b",
    re.IGNORECASE,
)


# A symptom said not to be there is not a symptom: "no bladder or bowel problems", "I don't have chest pain"
# (negation triggers in the few words before a phrase, within its clause, as in NegEx).
_NEGATION = re.compile(
    r"\b(no|not|never|without|denies|nor|don'?t|doesn'?t|didn'?t|isn'?t|wasn'?t|haven'?t|hasn'?t|hadn'?t|free of)\b"
    r"(?! (sure|only|just|until))",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.?!;,:]|\b(but|however|although|though|yet|now|except)\b", re.IGNORECASE)


# Said to have lasted a long time: "for 2 years", "for months", "for ages", "since my teens".
_LONG_STANDING = re.compile(
    r"\bfor (the (last|past) )?((\d+|a|one|two|three|four|five|six|few|several|many|some|a couple of) )?"
    r"(years?|yrs?|months?|decades?|ages)\b|\bsince (my|his|her) (teens|twenties|childhood)\b|\bfor a long time\b",
    re.IGNORECASE,
)


def _affirmed(pattern: re.Pattern[str], text: str, negation: re.Pattern[str] | None = None) -> bool:
    """Whether ``pattern`` matches somewhere ``text`` does not negate it."""
    return _any_affirmed(pattern.finditer(text), text, negation)


def _any_affirmed(matches: Iterable[re.Match[str]], text: str, negation: re.Pattern[str] | None = None) -> bool:
    """Whether any of ``matches`` (of ``text``) is not negated by the words before it in its clause."""
    for match in matches:
        before = _CLAUSE_END.split(text[: match.start()])[-1]
        if not (negation or _NEGATION).search(" ".join(before.split()[-4:])):
            return True
    return False


# ... and for what was swallowed, "nothing swallowed", "none eaten" too
_NOTHING_TAKEN = re.compile(_NEGATION.pattern + r"|\b(nothing|none)\b", re.IGNORECASE)


# Nothing was taken: every tablet is accounted for ("counted them, none missing", "the lid was still on").
_ACCOUNTED = re.compile(
    r"\bnone (are |were |is )?(missing|gone|taken|swallowed|eaten)\b|\bnothing (came out|was (taken|swallowed|eaten)"
    r"|(is )?missing|swallowed|inside was touched)\b|\ball( \d+| of them| the (tablets|pills|gummies))? (are |were )?"
    r"(still )?(there|in the (jar|bottle|pot|tub|pack|box))\b|\baccounted for\b|\b(lid|cap) (was |is )?still on\b"
    r"|\bnever (opened|came open)\b|\b(didn'?t|did not|never) (swallow|eat|take) (any|one|anything)\b",
    re.IGNORECASE,
)
# An animal that ate something is a matter for a vet, not an emergency number: "my dog ate one tablet".
_PET = re.compile(
    r"\b(my|our|the|his|her|their) (dog|dogs|cat|cats|puppy|kitten|pet|rabbit|hamster|guinea pig|parrot|horse)\b",
    re.IGNORECASE,
)
# ... unless a person is in it too: "the dog knocked the pot over and my son ate some", "I took them all"
_PERSON_TOO = re.compile(
    r"\b(son|daughter|child|children|toddler|baby|kid|kids|boy|girl|grandson|granddaughter|grandchild|niece|nephew"
    r"|husband|wife|partner|mum|mom|dad|brother|sister|friend)\b|\bi (took|swallowed|ate|had|feel|am)\b|\bi'?m\b",
    re.IGNORECASE,
)
# ... unless some were swallowed or are gone: "ate two, the rest are accounted for" is not accounted for.
_TAKEN = re.compile(
    r"\b(swallowed|swallow|ate|eaten|chewed(?! on)|sucked(?! on)|gulped)\b|\b(\d+|one|two|three|four|five|some|a few"
    r"|several|a couple|half)( of them| tablets?| pills?| gummies)? (are |is |were |was )?(gone|missing)\b",
    re.IGNORECASE,
)


# The asker says they are well now: "feel totally fine", "I'm ok", "no symptoms", "breathing fine" (not "was fine
# at lunch", not someone else who "seems fine": a child who swallowed tablets may show nothing yet).
_WELL = re.compile(
    r"\b(i'?m|i am|im|i feel|feel|feeling|i seem)\s+(totally |completely |absolutely |perfectly |pretty |really "
    r"|quite |100% )?(fine|normal|ok|okay|alright|all right|good|great|well)\b"
    r"|\b(no|zero) (symptoms|side effects|problems|issues)\b(?! (yet|so far))|\bbreathing (fine|normally|ok|okay)\b",
    re.IGNORECASE,
)


# "sudden" says how something began; a sentence told in the past can say it ("had sudden numbness 3 yrs ago").
_ONSET = re.compile(r"\b(sudden|suddenly)\b", re.IGNORECASE)
_SENTENCE_SPAN = re.compile(r"[^.?!;]+")

# Everything that decides the cues, as text: the emergency model's fit is named by it.
CUE_PATTERNS = "\n".join(
    p.pattern
    for p in (
        _URGENT,
        _SELF_HARM,
        _GENERAL,
        _LEARNING,
        _FIRST_PERSON,
        _PAST,
        _NOW,
        _LONG_STANDING,
        _NEGATION,
        _CLAUSE_END,
        _WELL,
        _ONSET,
        _SENTENCE_SPAN,
    )
)


@dataclass(frozen=True)
class UrgentCues:
    """What the emergency phrase patterns see in a message; the emergency model weighs these."""

    pattern: bool  # an emergency phrase ("crushing chest pain", "face drooping", ...), not negated
    self_harm: bool  # a crisis phrase ("want to die", "kill myself", ...), not negated
    past: bool  # said to be long ago and not now ("3 years ago", "last year")
    general: bool  # a general question (research, a course, curiosity), nothing happening now
    about_research: bool = False  # speaks of research or risk and of nobody present ("studies on suicide risk")
    long_standing: bool = False  # said to have lasted years or months ("tingling for 2 years")
    denied: bool = False  # emergency phrases there, every one negated ("no chest pain, no weakness")
    accounted: bool = False  # nothing was taken: every tablet is accounted for ("counted them, none missing")
    pet: bool = False  # it is about an animal ("my dog ate one tablet off the floor")
    well: bool = False  # the asker says they feel fine now ("took two by mistake, feel totally fine")


_NOT_NOW = re.compile(r"\b(nothing|not|no|never)\b", re.IGNORECASE)


def _now(text: str) -> bool:
    """Whether ``text`` says something is happening now, not "nothing is going on right now"; "sudden" says how
    it began, which is not now in a sentence that puts it in the past ("had sudden numbness 3 yrs ago")."""
    past_spans = [m.span() for m in _SENTENCE_SPAN.finditer(text) if _PAST.search(m.group(0))]
    for match in _NOW.finditer(text):
        before = _CLAUSE_END.split(text[: match.start()])[-1]
        if _NOT_NOW.search(" ".join(before.split()[-4:])):
            continue
        if _ONSET.fullmatch(match.group(0)) and any(a <= match.start() < b for a, b in past_spans):
            continue
        return True
    return False


def told_as_past(text: str) -> bool:
    """Whether ``text`` puts what it tells long in the past and nothing in it now ("had a TIA 8 years ago"; not
    "tingling since chemo 3 years ago", which goes on)."""
    return bool(_PAST.search(text)) and not _now(text) and not goes_on(text)


_SINCE = re.compile(r"\b(since|ever since|still|ongoing)\b", re.IGNORECASE)


def goes_on(text: str) -> bool:
    """Whether ``text`` says something goes on ("still", "ever since", "ongoing")."""
    return bool(_SINCE.search(text))


# A word or two in quotes is mentioned, not used: "saw the word 'overdose' in a forum" tells of no overdose.
_MENTIONED = re.compile(r"(?<!\w)(['\"‘“])(\w+(?:[\s-]\w+){0,2})(['\"’”])(?!\w)")


def urgent_cues(text: str) -> UrgentCues:
    about_research = bool(_GENERAL.search(text) and not _FIRST_PERSON.search(text))
    used = _MENTIONED.sub(lambda m: " " * len(m.group(0)), text)  # same length: matches keep their places
    found = list(_URGENT.finditer(used))  # the longest pattern: searched once, for what is said and what denied
    pattern = _any_affirmed(found, text)
    now = _now(text)
    return UrgentCues(
        pattern=pattern,
        self_harm=_affirmed(_SELF_HARM, text),
        past=bool(_PAST.search(text) and not now),
        general=about_research or bool(_LEARNING.search(text) and not now),
        about_research=about_research,
        long_standing=bool(_LONG_STANDING.search(text) and not now),
        denied=bool(found and not pattern),
        accounted=_affirmed(_ACCOUNTED, text) and not _affirmed(_TAKEN, text, _NOTHING_TAKEN),
        pet=bool(_PET.search(text) and not _PERSON_TOO.search(text)),
        well=_affirmed(_WELL, text),
    )


def strip_injection(text: str) -> tuple[str, bool]:
    """Remove instructions aimed at the bot; return the remaining question and whether any were found."""
    cleaned, n = _INJECTION.subn(" ", text)
    return " ".join(cleaned.split()), n > 0


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_ASKING = re.compile(
    # (after a word or two that only carry the conversation on: "so can I ...", "ok so does ...", "and is it ...")
    r"^(?:(?:so|and|but|ok|okay|well|then|right|also|oh)\b[\s,]+){0,2}"
    r"(does|do|did|is|are|was|were|can|could|would|will|should|has|have|what|whats|how|why|which|who|when|where"
    r"|any|anyone|tell me|explain)\b|\?\s*$|\bquestion:",
    re.IGNORECASE,
)


def asking_sentences(text: str) -> str:
    """The sentences of ``text`` that ask something ("Actual question: what animals were used?")."""
    return " ".join(s for s in _SENTENCE_END.split(text) if _ASKING.search(s.strip()))


_CLAUSE = re.compile(r"\s*(?:[,;:]|\s[-–—]\s)\s*")


# A clause that only sets the scene for the question after it ("before I buy it", "if it matters").
_SCENE = re.compile(
    r"^(before|if|when|whenever|since|because|as|while|although|though|after|once|until|unless)\b", re.IGNORECASE
)
NAMES_MAGNESIUM = re.compile(r"\b(magnesium|mag|mg|magnesia)\b", re.IGNORECASE)


_IT = re.compile(r"\bit\b(?!'s|’s)", re.IGNORECASE)


_THEY = re.compile(r"\b(they|them|their)\b", re.IGNORECASE)
_STUDY_PEOPLE = {"they": "the study's patients", "them": "the study's patients", "their": "the study patients'"}


def with_its_subject(follow_up: str, about_study: bool = False) -> str:
    """A follow-up as the emergency model should read it: its "it" is what the chat is about, magnesium ("can
    I take it with my gabapentin?" is a question about magnesium and a medicine, not about a pile of tablets),
    and in a chat about a study, "they" are the study's patients ("how many tablets did they take a day?").
    Unchanged when it names magnesium itself or says no "it" or "they"."""
    told = follow_up if NAMES_MAGNESIUM.search(follow_up) else _IT.sub("magnesium", follow_up)
    if about_study and not _FIRST_PERSON.search(told):
        told = _THEY.sub(lambda m: _STUDY_PEOPLE[m.group(0).lower()], told)
    return told


def asking_clauses(text: str) -> str:
    """What ``text`` asks, from the clause where each question starts, if that clause says what it asks
    about: "forget the oil, does magnesium help nerve pain?" asks "does magnesium help nerve pain?", while
    "glycinate or citrate, which is best?" asks about both. A sentence that only ends in "?" counts whole."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        clauses = _CLAUSE.split(sentence.strip())
        start = next(
            (i for i, c in enumerate(clauses) if _ASKING.match(c) and NAMES_MAGNESIUM.search(" ".join(clauses[i:]))),
            None,
        )
        if start is None:  # "before I buy a tub of it, is there any evidence it helps?": the scene, then the question
            start = next((i for i, c in enumerate(clauses) if _ASKING.match(c)), None)
            start = start if start and all(_SCENE.match(c) for c in clauses[:start]) else None
        if start is not None:
            out.append(" ".join(clauses[start:]))
        elif _ASKING.search(sentence.strip()):
            out.append(sentence.strip())
    return " ".join(out)


def clauses(text: str) -> list[str]:
    """The clauses of each sentence of ``text`` (split at commas, semicolons, colons and dashes)."""
    return [c for sentence in _SENTENCE_END.split(text.strip()) for c in _CLAUSE.split(sentence.strip()) if c]


def one_clause(text: str) -> bool:
    """Whether ``text`` is a single clause of a single sentence ("roughly how much does a month of it cost")."""
    return len(_CLAUSE.split(text.strip())) == 1 and len(_SENTENCE_END.split(text.strip())) == 1


def is_dose_question(text: str) -> bool:
    return bool(_DOSE.search(text))


# Asking for a dose of one's own ("how much should I take?", "what dose can my dad have?"), not what a study gave
# ("how much did they give?").
# Whose dose: "my dad", "my 80 yr old dad".
_MINE = r"my(?: [\w-]+){1,4}?"
_OWN_DOSE = re.compile(
    r"\b(how much|how many|what (dose|dosage|amount|strength)|which (dose|dosage|strength))\b"
    r"(?:(?!\b(did|were|was|they|study|trial)\b)[^.?!]){0,50}?"
    r"\b(should|can|could|do|must|would|shall)\s+(i|we|you|he|she|" + _MINE + r")\b(\s+\w+)?\s+"
    r"(take|have|give|use|be taking|be having|start|try)\b"
    r"|\b(dose|dosage|amount)\s+(for me|should i|do i need|is right for me)\b"
    # ... said the other way round: "should she take it then, how much a day?"
    r"|\b(should|can|could|would|must)\s+(i|we|he|she|" + _MINE + r")\s+(take|have|try|use|start)\b"
    r"(?:(?!\b(did|were|was|they|study|trial)\b)[^.?!]){0,40}?\bhow (much|many|often)\b"
    # ... or whether to take what a study gave: "the trial used 245mg twice a day, should I take the same?"
    r"|\b(should|can|could|do|would|must)\s+(i|we|he|she|" + _MINE + r")\s+(take|have|try|use|do|copy)\s+"
    r"(the same|that"
    r" (dose|dosage|amount|much)|this (dose|dosage|amount|much)|as much|what they (took|had|gave|used))\b"
    # ... or when and how to take it: a regimen for the asker, which no study here gives either
    r"|\b(when|what time( of day)?|how often)\s+(should|do|can|would|must)\s+(i|we|you|he|she|" + _MINE + r")\s+"
    r"(take|have|give|use)\b"
    r"|\b(better to|(should|do|can) (i|we|you|he|she|" + _MINE + r")) (take|have)"
    r" (it|them|" + _MINE + r"|magnesium|mag)\b"
    r"[^.?!]{0,30}\b(night|morning|bed|bedtime|food|meals?|breakfast|dinner|empty stomach)\b",
    re.IGNORECASE,
)


def asks_own_dose(text: str) -> bool:
    """Whether ``text`` asks how much, when or how often someone should take it: a dose or regimen no study
    here can give."""
    return bool(_OWN_DOSE.search(text))


# A dose described as the one to take: the best, right or recommended one, or an amount a day ...
_RECOMMENDED_DOSE = re.compile(
    r"\b(best|right|ideal|optimal|optimum|recommended|correct|proper|usual|standard|effective)\s+"
    r"(daily\s+)?(dose|dosage|amount)\b|\bdaily (dose|dosage|amount)\b"
    r"|\b(dose|dosage|amount|mg|milligrams?)\s+(a|per)\s+day\b"
    r"|\bhow (much|many)( \w+){0,2}\s+(a|per|each|every)\s+(day|night|week)\b|\bhow (much|many)( \w+){0,2} daily\b",
    re.IGNORECASE,
)
# ... unless the question asks what the research gave ("what daily dose did they use?", "the trial's dose")
_RESEARCH_DOSE = re.compile(
    r"\b(did|were|was|they|their|study|studies|trial|trials|gave|given|used|research|paper|papers|participants"
    r"|patients|rats?|mice|mouse|experiments?)\b",
    re.IGNORECASE,
)


def asks_recommended_dose(text: str) -> bool:
    """Whether ``text`` asks for the dose to take without "should I" ("what's the best daily dose for
    neuropathy?", "how much a day for a 74 year old?") and without a word of what a study gave ("what dose
    helps?" is answered with the amounts the studies used)."""
    return bool(_RECOMMENDED_DOSE.search(text) and not _RESEARCH_DOSE.search(text))


def names_subject(text: str) -> bool:
    """Whether a question names anything it is about (magnesium, a condition, a medicine, an animal) beside the
    evidence itself: "is any of this actually proven?" names nothing."""
    return any(w in _SUBJECT_TERMS or w.removesuffix("s") in _SUBJECT_TERMS for w in words(text))


def on_topic(text: str, extra_terms: frozenset[str] = frozenset(), common: Container[str] = frozenset()) -> bool:
    """Whether any word (allowing for typos) belongs to magbot's subject. A word in ``common`` (everyday
    English) is never read as a typo of one: "cream" is not "cramp"."""
    said = words(text)

    def known(word: str) -> bool:
        return any(w in TOPIC_TERMS or w in extra_terms for w in (word, word[:-1] if word.endswith("s") else word))

    if any(known(w) for w in said):  # a word as written first; a typo's nearest word only if none is
        return True
    vocabulary = TOPIC_TERMS | extra_terms
    return any(
        len(w) >= 5 and w not in common and difflib.get_close_matches(w, vocabulary, n=1, cutoff=0.8) for w in said
    )
