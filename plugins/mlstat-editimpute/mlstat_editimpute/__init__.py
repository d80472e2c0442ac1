"""mlstat plugin for editing and imputation of survey microdata.

Edit rules written as readable expressions (parsed safely with :mod:`ast`), Fellegi-Holt error
localisation as a mixed-integer program, suspicious-record detection, and imputation methods
(predictive mean matching on gradient boosting, nearest-neighbour donors, ratio and regression)
whose results are adjusted until every record passes the edits.
"""

__version__ = "0.1.0"
