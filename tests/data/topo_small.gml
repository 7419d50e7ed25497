# A small hand-made topology for the GML importer tests. Three cities sit on
# the equator one degree of longitude apart (111.195 km), one at the North
# Pole, and "Peering" has no coordinates, so it lands halfway between its
# neighbours West End and East Point, on Mid Town's spot.
Creator "AnySee tests"
graph [
  directed 0
  multigraph 1
  label "Equator test"
  node [
    id 10
    label "West End"
    Latitude 0
    Longitude 0
    graphics [ x 1.0 y 2.0 fill [ r 0 g 0 b 255 ] ]
  ]
  node [
    id 20
    label "Mid Town"
    Latitude 0.0
    Longitude 1.0
  ]
  node [
    id 35
    label "East Point"
    Latitude 0
    Longitude 2
  ]
  node [
    id 7
    label "Far North"
    Longitude 1
    Latitude 90
  ]
  node [
    id 3
    label "Peering # not a comment"
    Internal 0
  ]
  edge [ source 10 target 20 LinkSpeedRaw 1000000000.0 ]
  # The second of two parallel links: merged into the first.
  edge [ source 20 target 10 LinkSpeedRaw 155000000 ]
  edge [ source 20 target 35 latency "10 ms" ] # explicit delays win
  edge [ source 35 target 7 delay 2.5 ]
  edge [ source 10 target 7 ]
  edge [ source 3 target 10 ]
  edge [ source 3 target 35 ]
  edge [ source 3 target 3 latency "1 ms" ]
]
