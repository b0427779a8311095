"""Stop words for matching: function words that say nothing about what a story is about.

Written in their everyday spelling; `digest.selection.text` normalises them the same way
as article text (so the Arabic list matches whatever hamza or ta marbuta a writer used).
Reporting verbs ("says", "said", "يقول") are included: every news story has them. So are
the pieces an English contraction leaves when its apostrophe splits it ("we're" is "we"
and "re", "isn't" is "isn" and "t"), as NLTK's English list has them: "re" made "We're
looking into it" (a Twitter outage) and "You're not funny" (an actor's interview) share a
term. The pieces that are words and names as well stay terms: "won" (of won't: the verb,
the currency), "don" (Don Lemon, Rostov-on-Don), "haven" (New Haven), "ain" (Ain al-Asad),
"shan" (Shan State).
"""

from __future__ import annotations

ENGLISH = """
a about above after again against all almost along also although am among amid amidst an
and another any anyone anything are around as at be became because been before being below
beside besides between beyond both but by can cannot could did do does doing done down
during each either else ever every few for from further had has have having he her here
hers herself him himself his how however i if in into is it its itself just last least
less like made make many may me might more most much must my myself near neither never new
next no nor not now of off on once one only onto or other others our ours ourselves out
over own per perhaps rather said same say saying says she should since so some still such
than that the their theirs them themselves then there these they this those though through
throughout thus till to told too toward towards under unless until up upon very via was
we were what whatever when where whether which while who whom whose why will with within
without would yet you your yours yourself yourselves according amongst across behind
beneath despite nearby unlike versus
re ve ll aren couldn didn doesn hadn hasn isn mightn mustn needn shouldn wasn weren wouldn
"""

ARABIC = """
في من إلى الى على عن مع ضد عند لدى منذ حتى خلال بين بعد قبل حول دون نحو عبر فوق تحت
أمام امام وراء ضمن لدى وفق وفقا أن ان إن أنه انه إنه أنها انها إنها لأن كان كانت يكون
تكون كانوا أو او ثم بل لكن لكنه لكنها غير سوى كل بعض أي اي أية ذلك تلك هذا هذه هذي
هؤلاء أولئك الذي التي الذين اللذين اللتين اللواتي اللاتي ما ماذا متى أين اين كيف لماذا
هل لا لم لن ليس ليست قد لقد إذ اذ إذا اذا لو لولا كما مثل أيضا ايضا فقط عدة جدا حيث
هو هي هم هن هما أنا انا نحن أنت انت أنتم انتم له لها لهم لهن به بها بهم فيه فيها فيهم
منه منها منهم عليه عليها عليهم إليه اليه إليها اليها عنه عنها عنهم يا و ف ب ل ك أمس
اليوم الآن الان قال قالت يقول تقول وقال وقالت أضاف اضاف أضافت اضافت أكد اكد أكدت اكدت
وأضاف واضاف وأكد واكد كذلك أكثر اكثر أقل اقل بينما أثناء اثناء عندما لدي إلا الا
قرب بالقرب وسط خلف إزاء عقب إثر اثر جراء حيال قبيل حسب بحسب تجاه قرابة
"""
