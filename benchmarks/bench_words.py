"""Words for the search benchmark's synthetic articles (benchmarks/bench_search.py).

COMMON: everyday English, most frequent first. HEALTH: the site's subject words. The
benchmark adds a deterministic tail of rare made-up words so the vocabulary is about as
large as a real site's (several thousand words), and draws all of them with Zipf-like
frequencies from a seeded generator.
"""


def _words(text):
    return text.split()


COMMON = _words(
    """
the of and to a in is that for it as with was on be by this are or from at which but
not have an they you one all has their more also can were been if there when who will
would may about other than some into only its these them what most many after such first
over time people years new used then two any where much how way well should because both
between each those during same under while very often could still however through before
several within without against among around without every another another part number
even found however less made make known called high long small large different important
use work day life world part place case point group problem fact hand week company system
program question government area home water room mother night study book eye job word
business issue side kind head house service friend father power hour game line end member
law car city community name president team minute idea kid body information back parent
face others level office door health person art war history party result change morning
reason research girl guy moment air teacher force education foot boy age policy process
music market sense nation plan college interest death experience effect class control care
field development role effort rate heart drug show leader light voice wife police mind
price report decision son view relationship town road arm difference value building action
model season society tax director position player record paper space ground form event
official matter center couple site project activity star table need court oil situation
cost industry figure street image phone data picture practice piece land product doctor
wall patient worker news test movie north love support technology step baby computer type
attention film tree source organization hair window evidence population truth
"""
)

HEALTH = _words(
    """
magnesium cramps sleep vitamin supplement dose deficiency calcium potassium sodium zinc
iron selenium iodine copper chromium manganese omega fatty acids fish oil protein creatine
caffeine melatonin probiotics prebiotics fiber gut microbiome digestion inflammation
immune antioxidant cholesterol blood pressure sugar glucose insulin diabetes metabolism
muscle muscles bone bones joint joints arthritis osteoporosis fatigue energy stress anxiety
depression mood brain memory cognition focus headache migraine nausea bloating constipation
diarrhea kidney liver heart cardiovascular stroke cancer pregnancy breastfeeding children
elderly aging skin hair nails collagen biotin folate folic thiamine riboflavin niacin
pantothenic pyridoxine cobalamin ascorbic retinol tocopherol phylloquinone cholecalciferol
ergocalciferol glycinate citrate oxide threonate malate chloride sulfate bisglycinate
picolinate gluconate carbonate absorption bioavailability tablet capsule powder gummy liquid
serving label ingredient placebo trial trials randomized controlled meta analysis evidence
cohort observational study studies researchers participants symptom symptoms treatment
therapy medication interaction interactions side effects safety toxicity overdose upper
intake recommended allowance daily diet dietary food foods nutrition nutrient nutrients
vegetables fruits legumes nuts seeds grains dairy meat eggs spinach almonds avocado banana
salmon sardines yogurt kefir kimchi sauerkraut turmeric curcumin ginger garlic ginseng
ashwagandha rhodiola valerian chamomile lavender echinacea elderberry zinc quercetin
resveratrol coenzyme ubiquinol berberine inositol choline lecithin glutamine taurine
glycine theanine tryptophan tyrosine arginine citrulline carnitine lysine electrolytes
hydration dehydration exercise athletes endurance strength recovery soreness stretching
night leg legs calf cramping spasms twitching restless tingling numbness neuropathy
hormone hormones thyroid cortisol estrogen testosterone menopause menstrual fertility
weight obesity appetite satiety fasting keto ketogenic vegan vegetarian mediterranean
hypertension hypotension arrhythmia palpitations anemia hemoglobin ferritin homocysteine
laboratory serum plasma urine deficiency insufficiency sufficiency optimal levels marker
markers physician pharmacist dietitian guideline guidelines regulation contamination
purity certification sunlight exposure winter latitude skin tone season seasonal
"""
)

TAGS = [
    "magnesium",
    "leg cramps",
    "sleep",
    "vitamin D",
    "omega-3",
    "gut health",
    "probiotics",
    "iron",
    "zinc",
    "heart health",
    "blood pressure",
    "diabetes",
    "stress",
    "anxiety",
    "immune system",
    "bone health",
    "joint pain",
    "exercise",
    "creatine",
    "caffeine",
    "pregnancy",
    "children",
    "aging",
    "skin",
    "thyroid",
    "menopause",
    "weight",
    "nutrition basics",
    "herbal supplements",
    "safety",
    "drug interactions",
    "research",
    "headache",
    "fatigue",
    "hydration",
    "vegan",
    "cholesterol",
    "inflammation",
    "memory",
    "energy",
]

# Consonant-vowel syllables for the rare tail of the vocabulary.
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["an", "en", "in", "on", "ar", "er", "or", "ul"]
