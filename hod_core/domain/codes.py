"""Code lists the wire format validates against: states, languages, weekdays."""

# USPS codes of the states, DC and the inhabited territories, where a producer
# licence can be held. Military "states" (AA, AE, AP) are not licensing states.
US_STATES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO
    MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
    AS GU MP PR VI""".split()  # noqa: SIM905 - a block of codes reads better than a list
)

# ISO 639-1 two-letter language codes (the 183 current ones, plus the
# withdrawn bh and sh that older records still carry). HealthCare.gov offers
# en, es and about twenty others.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co
    cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn
    gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj
    kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn
    ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
    tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
