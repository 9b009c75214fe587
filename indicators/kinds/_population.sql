-- population: ISTAT residents (latest year in the table) of every comune of the ambito by age, with its
-- sub-ambito; a comune without residents in the table has one row with eta NULL. Context.population sums the
-- age ranges and the territories from it (every comune, with 0 residents when it has none in the range).
WITH ultimo AS (SELECT max(anno) AS anno FROM popolazione)
SELECT c.comune, s.sub_ambito, p.eta, coalesce(sum(p.residenti), 0)::DOUBLE AS residenti
FROM comuni AS c
LEFT JOIN sub_ambiti AS s ON s.comune = c.comune
LEFT JOIN popolazione AS p ON p.comune = c.comune AND p.anno = (SELECT anno FROM ultimo)
GROUP BY c.comune, s.sub_ambito, p.eta
